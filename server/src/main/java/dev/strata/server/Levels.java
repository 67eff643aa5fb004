package dev.strata.server;

import java.time.Duration;
import java.util.List;

/**
 * The level list of the server (spec §4.1) plus the snapshot level 9. Defaults are litefs-backup v0.2.0's:
 * L0 staging kept 1 h, L1 every 10 s kept 1 h, L2 every 5 min kept 30 days (the restore points), L3 every hour;
 * daily snapshots kept 30 days, the newest always.
 */
public record Levels(List<CompactionLevel> list, Duration snapshotInterval, Duration snapshotRetention) {
  /** Highest level a compaction list may hold. */
  public static final int MAX = 8;
  /** The snapshot level. */
  public static final int SNAPSHOT = 9;
  /** The level whose files are the restore points listed by {@code /db/info}. */
  public static final int RESTORE_TARGET = 2;
  /** Most files compacted in one run. */
  public static final int MAX_COMPACTION_FILES = 100;

  public Levels {
    list = List.copyOf(list);
    validate(list);
  }

  /** litefs-backup v0.2.0's levels. */
  public static Levels defaults() {
    return new Levels(List.of(
        new CompactionLevel(0, Duration.ZERO, Duration.ofHours(1)),
        new CompactionLevel(1, Duration.ofSeconds(10), Duration.ofHours(1)),
        new CompactionLevel(2, Duration.ofMinutes(5), Duration.ofDays(30)),
        new CompactionLevel(3, Duration.ofHours(1), Duration.ofDays(30))),
        Duration.ofHours(24), Duration.ofDays(30));
  }

  /** Checks the rules of litefs-backup's {@code Store.Open}, with its messages. */
  static void validate(List<CompactionLevel> list) {
    if (list.isEmpty()) throw new IllegalArgumentException("at least one compaction level is required");
    for (int i = 0; i < list.size(); i++) {
      CompactionLevel l = list.get(i);
      if (l.level() != i) {
        throw new IllegalArgumentException("compaction level number out of order: " + l.level() + ", expected " + i);
      }
      if (l.level() > MAX) throw new IllegalArgumentException("compaction level cannot exceed " + MAX);
      if (i == 0 && !l.interval().isZero()) {
        throw new IllegalArgumentException("cannot set interval on compaction level zero");
      }
      if (i > 0 && (l.interval().isZero() || l.interval().isNegative())) {
        throw new IllegalArgumentException("interval required for level " + i);
      }
    }
  }

  /** The highest compaction level (3 by default). */
  public int maxLevel() {
    return list.size() - 1;
  }

  /** Level {@code n} of the list. */
  public CompactionLevel get(int n) {
    return list.get(n);
  }

  /** The level compacted after {@code n}: n+1, then the snapshot level, then none (−1). */
  public int next(int n) {
    if (n == SNAPSHOT) return -1;
    return n == maxLevel() ? SNAPSHOT : n + 1;
  }

  /** Retention of a level's files; the snapshot retention for level 9. */
  public Duration retention(int n) {
    return n == SNAPSHOT ? snapshotRetention : list.get(n).retention();
  }

  /** Interval of a level; the snapshot interval for level 9. */
  public Duration interval(int n) {
    return n == SNAPSHOT ? snapshotInterval : list.get(n).interval();
  }
}
