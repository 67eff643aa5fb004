package dev.strata.agent.testing;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.capture.CaptureOptions;
import dev.strata.agent.upload.ReplicaUpkeep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Replicates one database until its standard input closes: the agent run as a child JVM, so that tests can kill
 * it with SIGKILL. Arguments: DB REPLICA_URL SYNC_MILLIS MIN_CHECKPOINT_PAGES.
 */
public final class AgentMain {
  public static void main(String[] args) throws Exception {
    DatabaseSpec spec = DatabaseSpec.of(Path.of(args[0]), List.of(new ReplicaSpec("r", args[1])))
        .withSyncInterval(Duration.ofMillis(Long.parseLong(args[2])))
        .withCapture(CaptureOptions.defaults().withMinCheckpointPages(Integer.parseInt(args[3])));
    try (DatabaseMonitor m = DatabaseMonitor.open(spec, ReplicaUpkeep.Factory.NONE)) {
      m.start();
      System.out.println("started " + m.capture().txid());
      System.out.flush();
      while (System.in.read() >= 0) {
        // run until stdin closes
      }
      m.stop();
    }
  }
}
