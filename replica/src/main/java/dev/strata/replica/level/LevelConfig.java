package dev.strata.replica.level;

import java.time.Duration;
import java.util.List;

/**
 * The levels of one replica: level 0 (written by the agent or the server), compaction levels 1..n and the snapshot
 * level 9.
 *
 * @param levels levels 0..n in order; level 0's retention is how long its files are kept after compaction
 * @param snapshotInterval how often a snapshot is built from the previous one and the levels above it
 * @param snapshotRetention how long snapshots are kept; the newest is always kept, and so is any snapshot that a
 *     restore point still inside retention needs
 */
public record LevelConfig(List<Level> levels, Duration snapshotInterval, Duration snapshotRetention) {
  public LevelConfig {
    levels = List.copyOf(levels);
    if (levels.size() < 2) throw new IllegalArgumentException("at least level 0 and one compaction level required");
    if (levels.size() > Level.SNAPSHOT) {
      throw new IllegalArgumentException("compaction level cannot exceed " + (Level.SNAPSHOT - 1));
    }
    for (int i = 0; i < levels.size(); i++) {
      if (levels.get(i).number() != i) {
        throw new IllegalArgumentException("compaction level number out of order: " + levels.get(i).number()
            + ", expected " + i);
      }
    }
    if (snapshotInterval == null || snapshotInterval.isNegative() || snapshotInterval.isZero()) {
      throw new IllegalArgumentException("snapshot interval must be positive");
    }
    if (snapshotRetention == null || snapshotRetention.isNegative()) {
      throw new IllegalArgumentException("snapshot retention must not be negative");
    }
  }

  /**
   * DESIGN.md's defaults (those of litefs-backup): level 0 kept 5 min after compaction, L1 every 10 s kept 1 h,
   * L2 every 5 min and L3 every hour kept 30 days, a snapshot every 24 h kept 30 days.
   */
  public static LevelConfig defaults() {
    Duration days30 = Duration.ofDays(30);
    return new LevelConfig(List.of(
        new Level(0, Duration.ZERO, Duration.ofMinutes(5)),
        new Level(1, Duration.ofSeconds(10), Duration.ofHours(1)),
        new Level(2, Duration.ofMinutes(5), days30),
        new Level(3, Duration.ofHours(1), days30)),
        Duration.ofDays(1), days30);
  }

  /**
   * The defaults with Litestream v0.3's two per-replica keys applied: {@code retention} (how far back one can
   * restore) becomes the retention of the snapshots and of every level above 1, and {@code snapshot-interval}
   * the snapshot interval. Either may be null to keep the default.
   */
  public static LevelConfig litestream(Duration retention, Duration snapshotInterval) {
    return defaults().withLitestream(retention, snapshotInterval);
  }

  /** This configuration with Litestream's {@code retention} and {@code snapshot-interval} applied (null keeps). */
  public LevelConfig withLitestream(Duration retention, Duration snapshotInterval) {
    List<Level> adjusted = levels.stream()
        .map(l -> retention == null || l.number() < 2 ? l : new Level(l.number(), l.interval(), retention))
        .toList();
    return new LevelConfig(adjusted, snapshotInterval != null ? snapshotInterval : this.snapshotInterval,
        retention != null ? retention : snapshotRetention);
  }

  /** The highest compaction level (3 by default); snapshots are built from it. */
  public int topLevel() {
    return levels.size() - 1;
  }

  /** Level {@code n} (0..{@link #topLevel()}), or the snapshot level for {@link Level#SNAPSHOT}. */
  public Level level(int n) {
    if (n == Level.SNAPSHOT) return new Level(Level.SNAPSHOT, snapshotInterval, snapshotRetention);
    if (n < 0 || n > topLevel()) throw new IllegalArgumentException("level " + n + " is not configured");
    return levels.get(n);
  }
}
