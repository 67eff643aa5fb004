package dev.strata.cli;

import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.LevelCompactor;
import dev.strata.replica.level.LevelConfig;
import java.time.Clock;
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
  @Override
  public ReplicaUpkeep create(ReplicaClient client, LevelConfig levels, Clock clock) {
    LevelCompactor compactor = new LevelCompactor(client, levels, clock);
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
}
