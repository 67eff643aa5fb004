package dev.strata.server;

import java.time.Duration;

/**
 * One storage level (spec §4.1): level 0 is the local staging area, levels 1–8 are compactions in storage.
 *
 * @param interval how often the level is compacted from the level below; zero for level 0
 * @param retention how long files of this level are kept once a higher level covers them
 */
public record CompactionLevel(int level, Duration interval, Duration retention) {}
