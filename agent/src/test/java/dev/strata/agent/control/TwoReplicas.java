package dev.strata.agent.control;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.testing.CountingClient;
import dev.strata.agent.testing.Sqlite;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.file.FileReplicaClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The control tests' database: {@code app.db} with two directory replicas, {@code a} and {@code b}, whose clients
 * count requests (and can be stalled), synced every 500 ms.
 */
record TwoReplicas(Path dir, Path db, CountingClient a, CountingClient b) {
  static TwoReplicas create(Path dir) throws Exception {
    Path db = dir.resolve("app.db");
    Sqlite.create(db);
    return new TwoReplicas(dir, db, new CountingClient(new FileReplicaClient(dir.resolve("a"))),
        new CountingClient(new FileReplicaClient(dir.resolve("b"))));
  }

  /** A monitor of the database, not started. */
  DatabaseMonitor monitor() throws Exception {
    DatabaseSpec spec = DatabaseSpec.of(db, List.of(new ReplicaSpec("a", dir.resolve("a").toString()),
        new ReplicaSpec("b", dir.resolve("b").toString()))).withSyncInterval(Duration.ofMillis(500))
        .withRetryMax(Duration.ofMillis(200));
    return DatabaseMonitor.open(spec, List.of(a, b), ReplicaUpkeep.Factory.NONE);
  }
}
