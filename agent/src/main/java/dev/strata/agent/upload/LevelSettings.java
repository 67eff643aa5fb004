package dev.strata.agent.upload;

import java.time.Duration;
import java.util.List;

/**
 * Compaction levels and retention as the configuration states them ({@code levels:}, {@code snapshot:},
 * {@code retention}, {@code snapshot-interval}), handed to the {@link ReplicaUpkeep.Factory}. Defaults are
 * DESIGN.md's: L1 10 s / 1 h, L2 5 min / 30 days, L3 1 h / 30 days, snapshots 24 h / 30 days.
 *
 * @param levels levels 1..n in order
 */
public record LevelSettings(List<Level> levels, Duration snapshotInterval, Duration snapshotRetention) {
  /** One compaction level: how often it is built and how long its files are kept. */
  public record Level(Duration interval, Duration retention) {}

  /** DESIGN.md's levels. */
  public static LevelSettings defaults() {
    return new LevelSettings(List.of(
        new Level(Duration.ofSeconds(10), Duration.ofHours(1)),
        new Level(Duration.ofMinutes(5), Duration.ofDays(30)),
        new Level(Duration.ofHours(1), Duration.ofDays(30))),
        Duration.ofHours(24), Duration.ofDays(30));
  }
}
