package dev.strata.replica.level;

import dev.strata.replica.ReplicaClient;
import java.time.Duration;

/**
 * One level of a replica: how often files of the level below are compacted into it, and how long its files are
 * kept once newer levels hold their data.
 *
 * @param number 0..8 for compaction levels, {@link #SNAPSHOT} (9) for full snapshots
 * @param interval compaction interval, aligned to wall-clock multiples; zero for level 0, which the agent writes
 * @param retention how long a file's restore points stay available, measured from the file's timestamp
 */
public record Level(int number, Duration interval, Duration retention) {
  /** The level that holds full snapshots (MinTXID 1). */
  public static final int SNAPSHOT = ReplicaClient.MAX_LEVEL;

  public Level {
    ReplicaClient.checkLevel(number);
    if (interval == null || interval.isNegative()) {
      throw new IllegalArgumentException("level " + number + ": interval must not be negative");
    }
    if (retention == null || retention.isNegative()) {
      throw new IllegalArgumentException("level " + number + ": retention must not be negative");
    }
    if (number == 0 && !interval.isZero()) {
      throw new IllegalArgumentException("cannot set an interval on level 0 (the agent writes it)");
    }
    if (number != 0 && interval.isZero()) throw new IllegalArgumentException("level " + number + ": interval required");
  }
}
