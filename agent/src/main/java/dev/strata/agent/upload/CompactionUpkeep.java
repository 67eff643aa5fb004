package dev.strata.agent.upload;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.level.LevelSchedule;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's compaction and retention: one {@link LevelSchedule} (the agent's scheduler over the replica module's
 * compaction engine) per replica, run on its own thread when due, so that a snapshot build (which reads the whole
 * database from the replica) never holds up uploads, and a compaction failure never backs off the replica's
 * uploads. Failures are logged and retried by the schedule.
 */
public final class CompactionUpkeep implements ReplicaUpkeep.Factory {
  private static final Logger log = LoggerFactory.getLogger(CompactionUpkeep.class);

  @Override
  public ReplicaUpkeep create(ReplicaClient client, LevelConfig levels, Clock clock) {
    LevelSchedule schedule = new LevelSchedule(client, levels, clock);
    AtomicBoolean running = new AtomicBoolean();
    return ReplicaUpkeep.of(schedule::noteWritten, () -> {
      if (clock.instant().isBefore(schedule.nextDue()) || !running.compareAndSet(false, true)) return;
      Thread.ofVirtual().name("compact " + client.location()).start(() -> {
        try {
          schedule.runDue();
        } catch (Exception e) {
          String why = Objects.requireNonNullElse(e.getMessage(), e.getClass().getSimpleName()).replace('\n', ' ');
          log.warn("{}: compaction: {}", client.location(), why);
        } finally {
          running.set(false);
        }
      });
    });
  }
}
