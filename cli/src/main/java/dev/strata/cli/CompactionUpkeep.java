package dev.strata.cli;

import dev.strata.agent.upload.LevelSettings;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelCompactor;
import dev.strata.replica.level.LevelConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compaction and retention in {@code strata replicate}: one {@link LevelCompactor} per replica, run on its own
 * thread when due, so that a snapshot build (which reads the whole database from the replica) never holds up
 * uploads, and a compaction failure never backs off the replica's uploads. Failures are logged and retried by the
 * compactor.
 */
final class CompactionUpkeep implements ReplicaUpkeep.Factory {
  private static final Logger log = LoggerFactory.getLogger(CompactionUpkeep.class);
  /** How long level-0 files stay after compaction into level 1 (DESIGN.md). */
  static final Duration LEVEL0_RETENTION = Duration.ofMinutes(5);

  @Override
  public ReplicaUpkeep create(ReplicaClient client, LevelSettings levels, Clock clock) {
    LevelCompactor compactor = new LevelCompactor(client, config(levels), clock);
    AtomicBoolean running = new AtomicBoolean();
    return ReplicaUpkeep.of(compactor::noteWritten, () -> {
      if (clock.instant().isBefore(compactor.nextDue()) || !running.compareAndSet(false, true)) return;
      Thread.ofVirtual().name("compact " + client.location()).start(() -> {
        try {
          compactor.runDue();
        } catch (Exception e) {
          log.warn("{}: compaction: {}", client.location(), CliErrors.oneLine(e));
        } finally {
          running.set(false);
        }
      });
    });
  }

  /** The agent's level settings (levels 1..n) as the compactor's configuration (with level 0). */
  static LevelConfig config(LevelSettings s) {
    List<Level> levels = new ArrayList<>();
    levels.add(new Level(0, Duration.ZERO, LEVEL0_RETENTION));
    for (int i = 0; i < s.levels().size(); i++) {
      LevelSettings.Level l = s.levels().get(i);
      levels.add(new Level(i + 1, l.interval(), l.retention()));
    }
    return new LevelConfig(levels, s.snapshotInterval(), s.snapshotRetention());
  }
}
