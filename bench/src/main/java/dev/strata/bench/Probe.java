package dev.strata.bench;

import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.fixture.FakeClock;
import dev.strata.replica.fixture.LtxChain;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;

public class Probe {
  public static void main(String[] a) throws Exception {
    Path dir = Path.of(a[0]);
    long target = Long.parseLong(a[1]) << 20;
    Files.createDirectories(dir);
    Path db = dir.resolve("src.db");
    long t0 = System.nanoTime();
    if (!Files.exists(db)) {
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
        s.execute("PRAGMA page_size=4096");
        s.execute("PRAGMA journal_mode=OFF");
        s.execute("PRAGMA synchronous=OFF");
        s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT, n INTEGER)");
        while (Files.size(db) < target) {
          s.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 100000) "
              + "INSERT INTO t(k, v, n) SELECT 'key-' || abs(random() % 1000000000), 'status=' || (abs(random()) % 5) "
              + "|| ' ' || hex(randomblob(40)) || ' note', random() FROM r");
        }
      }
      System.out.printf("built %d MiB in %.1f s%n", Files.size(db) >> 20, (System.nanoTime() - t0) / 1e9);
    }
    Path rep = dir.resolve("replica");
    FileReplicaClient client = new FileReplicaClient(rep);
    if (!Files.exists(rep)) {
      t0 = System.nanoTime();
      new LtxChain(client, new FakeClock(Instant.now()), dir).snapshotFile(db);
      System.out.printf("snapshot in %.1f s, %d MiB%n", (System.nanoTime() - t0) / 1e9,
          new dev.strata.replica.restore.RestorePlanner(client).latest().totalBytes() >> 20);
    }
    for (int r = 0; r < 3; r++) {
      Path cp = dir.resolve("cp.db");
      Files.deleteIfExists(cp);
      t0 = System.nanoTime();
      new ProcessBuilder("sh", "-c", "cp " + db + " " + cp + " && sync " + cp).inheritIO().start().waitFor();
      double cpT = (System.nanoTime() - t0) / 1e9;
      for (IntegrityCheck ic : IntegrityCheck.values()) {
        Path out = dir.resolve("out.db");
        Files.deleteIfExists(out);
        t0 = System.nanoTime();
        new RestoreExecutor(client, new RestoreExecutor.Options(4, ic, true, RestoreProgress.silent()))
            .restore(new RestorePlanner(client).latest(), out);
        double rt = (System.nanoTime() - t0) / 1e9;
        System.out.printf("cp+sync %.2f s, restore(%s) %.2f s, ratio %.2f%n", cpT, ic, rt, rt / cpT);
      }
    }
  }
}
