package dev.strata.agent.upload;

import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.LevelConfig;
import java.io.IOException;
import java.time.Clock;

/**
 * Work a replica needs after files were uploaded to it: compaction into higher levels and retention. The uploader
 * calls {@link #noteWritten} for every file it stores and {@link #runDue} after each batch and periodically.
 *
 * <p>This is the integration point for {@code dev.strata.replica.level.LevelSchedule(ReplicaClient, LevelConfig,
 * Clock)}: a {@link Factory} that builds one per replica and adapts it with
 * {@code ReplicaUpkeep.of(schedule::noteWritten, schedule::runDue)}.
 */
public interface ReplicaUpkeep {
  /** Called after {@code file} was stored on the replica. */
  void noteWritten(LtxFileMeta file);

  /** Runs whatever compaction or retention is due; must send no request to the replica when nothing is. */
  void runDue() throws IOException;

  /** No compaction or retention. */
  ReplicaUpkeep NONE = of(f -> {}, () -> {});

  /** An upkeep from two functions. */
  static ReplicaUpkeep of(java.util.function.Consumer<LtxFileMeta> noteWritten, IoAction runDue) {
    return new ReplicaUpkeep() {
      @Override
      public void noteWritten(LtxFileMeta file) {
        noteWritten.accept(file);
      }

      @Override
      public void runDue() throws IOException {
        runDue.run();
      }
    };
  }

  /** An action that may fail with an {@link IOException}. */
  @FunctionalInterface
  interface IoAction {
    void run() throws IOException;
  }

  /** Builds the upkeep of one replica from the database's level settings. */
  @FunctionalInterface
  interface Factory {
    ReplicaUpkeep create(ReplicaClient client, LevelConfig levels, Clock clock);

    /** Every replica gets {@link #NONE}. */
    Factory NONE = (client, levels, clock) -> ReplicaUpkeep.NONE;
  }
}
