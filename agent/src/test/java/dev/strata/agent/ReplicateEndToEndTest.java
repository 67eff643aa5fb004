package dev.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.strata.agent.capture.CaptureOptions;
import dev.strata.agent.capture.WalCapture;
import dev.strata.agent.testing.Chain;
import dev.strata.agent.testing.CountingClient;
import dev.strata.agent.testing.LogCapture;
import dev.strata.agent.testing.Sqlite;
import dev.strata.agent.testing.Writer;
import dev.strata.agent.upload.BacklogLimit;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.agent.upload.ReplicaUploader;
import dev.strata.ltx.Checksum;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Databases written by other processes, replicated to file replicas, checked against the database file. */
class ReplicateEndToEndTest {
  @TempDir Path dir;

  Path db() {
    return dir.resolve("app.db");
  }

  DatabaseSpec spec(String... replicas) {
    List<ReplicaSpec> r = java.util.Arrays.stream(replicas).map(n -> new ReplicaSpec(n, dir.resolve(n).toString()))
        .toList();
    return DatabaseSpec.of(db(), r).withSyncInterval(Duration.ofMillis(100))
        .withCapture(CaptureOptions.defaults().withMinCheckpointPages(100))
        .withRetryMax(Duration.ofMillis(200));
  }

  /** Checkpoints the database and asserts the replica's chain ends at its checksum and holds its content. */
  void assertReplicaEqualsDatabase(Path replica) throws Exception {
    Chain chain = Chain.of(replica);
    Sqlite.checkpointTruncate(db());
    assertThat(Checksum.format(chain.postApplyChecksum())).isEqualTo(Checksum.format(Sqlite.fileChecksum(db())));
    Path restored = dir.resolve("restored-" + replica.getFileName() + ".db");
    chain.applyTo(restored);
    assertThat(Sqlite.cli(restored, "PRAGMA integrity_check")).isEqualTo("ok");
    String q = "SELECT count(*), sum(length(v)), max(id) FROM t";
    assertThat(Sqlite.cli(restored, q)).isEqualTo(Sqlite.cli(db(), q));
  }

  @Test
  void pythonAndSqlite3WritersAreReplicatedCommitByCommit() throws Exception {
    Sqlite.create(db());
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("file"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      try (Writer w = Writer.start(db(), 400, 0.002)) {
        for (int i = 0; i < 20; i++) Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('from the cli " + i + "')");
        w.await();
      }
      assertThat(m.stop()).isTrue();
      assertThat(m.capture().stats().checkpoints()).isPositive();
    }
    Chain chain = Chain.of(dir.resolve("file"));
    assertThat(chain.maxTxid()).isEqualTo(1 + 400 + 20);
    assertThat(Chain.files(dir.resolve("file"), 9)).hasSize(1);
    assertReplicaEqualsDatabase(dir.resolve("file"));
  }

  @Test
  void oneDatabaseToAFileReplicaS3ProxyAndSftpAtOnce() throws Exception {
    Sqlite.create(db());
    try (S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3"));
        SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"))) {
      List<ReplicaSpec> replicas = List.of(new ReplicaSpec("file", dir.resolve("file").toString()),
          new ReplicaSpec("s3", s3.url("app")), new ReplicaSpec("sftp", sftp.url("backups/app")));
      DatabaseSpec spec = DatabaseSpec.of(db(), replicas).withSyncInterval(Duration.ofMillis(100));
      try (DatabaseMonitor m = DatabaseMonitor.open(spec, ReplicaUpkeep.Factory.NONE)) {
        m.start();
        try (Writer w = Writer.start(db(), 300, 0.002)) {
          w.await();
        }
        assertThat(m.stop()).isTrue();
      }
      for (ReplicaSpec r : replicas) {
        Path copy = dir.resolve("copy-" + r.name());
        try (var client = dev.strata.replica.ReplicaUrl.open(r.url())) {
          for (int level : new int[] {0, 9}) {
            Files.createDirectories(copy.resolve(Integer.toString(level)));
            for (var f : client.listFiles(level)) {
              try (var in = client.openFile(level, f.range(), 0)) {
                Files.copy(in, copy.resolve(level + "/" + f.fileName()));
              }
            }
          }
        }
        assertThat(Chain.of(copy).maxTxid()).as(r.name()).isEqualTo(1 + 300);
      }
      assertReplicaEqualsDatabase(dir.resolve("copy-s3"));
      assertThat(Chain.of(dir.resolve("copy-sftp")).postApplyChecksum())
          .isEqualTo(Chain.of(dir.resolve("copy-file")).postApplyChecksum());
    }
  }

  @Test
  void aReplicaDownForAWhileCatchesUpAndStopsNothingElse() throws Exception {
    Sqlite.create(db());
    DatabaseSpec spec = spec("a", "b");
    var a = new CountingClient(new FileReplicaClient(dir.resolve("a")));
    var b = new CountingClient(new FileReplicaClient(dir.resolve("b")));
    try (DatabaseMonitor m = DatabaseMonitor.open(spec, List.of(a, b), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      WalCapture c = m.capture();
      ReplicaUploader ua = m.uploaders().get(0), ub = m.uploaders().get(1);
      try (Writer w = Writer.start(db(), 100, 0)) {
        w.await();
      }
      await().atMost(Duration.ofSeconds(90)).until(() -> ub.txid() == c.txid() && ua.txid() == c.txid());
      b.down = true;
      try (Writer w = Writer.start(db(), 600, 0.001)) {
        w.await();
      }
      await().atMost(Duration.ofSeconds(90)).until(() -> ua.txid() == c.txid() && c.txid() >= 1 + 700);
      long behind = ub.txid();
      assertThat(behind).isLessThan(c.txid());
      assertThat(ub.stats().errors()).isPositive();
      assertThat(c.stats().checkpoints()).as("the WAL is checkpointed while b is down").isPositive();
      assertThat(Files.list(c.store().dir().resolve("0")).count()).as("files kept for b").isPositive();
      b.down = false;
      await().atMost(Duration.ofSeconds(90)).until(() -> ub.txid() == c.txid());
      assertThat(m.stop()).isTrue();
      assertThat(Files.list(c.store().dir().resolve("0")).count()).as("uploaded files are dropped").isZero();
    }
    assertThat(Chain.files(dir.resolve("b"), 9)).hasSize(1);
    assertThat(Chain.of(dir.resolve("a")).postApplyChecksum()).isEqualTo(Chain.of(dir.resolve("b")).postApplyChecksum());
    assertReplicaEqualsDatabase(dir.resolve("b"));
  }

  @Test
  void aBacklogOutgrowingTheDatabaseWhileAReplicaIsDownIsReplacedByASnapshot() throws Exception {
    Sqlite.create(db());
    DatabaseSpec spec = spec("a", "b").withCapture(CaptureOptions.defaults().withMinCheckpointPages(100)
        .withBacklogFloor(16 << 10));
    var a = new CountingClient(new FileReplicaClient(dir.resolve("a")));
    var b = new CountingClient(new FileReplicaClient(dir.resolve("b")));
    long mostHeld = 0;
    try (LogCapture logs = new LogCapture(BacklogLimit.class);
        DatabaseMonitor m = DatabaseMonitor.open(spec, List.of(a, b), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      WalCapture c = m.capture();
      ReplicaUploader ua = m.uploaders().get(0), ub = m.uploaders().get(1);
      b.down = true;
      // slow small commits: each pass's file outweighs the rows it adds, as on a database updated in place
      try (Writer w = Writer.start(db(), 300, 0.04)) {
        var held = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          long most = 0;
          while (!Thread.currentThread().isInterrupted() && !w.done()) {
            most = Math.max(most, c.store().bytes() - Math.max(16 << 10, fileSize(db())));
            sleep(10);
          }
          return most;
        });
        w.await();
        mostHeld = held.get();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> ua.txid() == c.txid() && c.txid() >= 1 + 300);
      assertThat(logs.messages()).anyMatch(msg -> msg.contains("below the snapshot at TXID"));
      b.down = false;
      await().atMost(Duration.ofSeconds(60)).until(() -> ub.txid() == c.txid());
      assertThat(m.stop()).isTrue();
    }
    // what the store held beyond the limit: at most a snapshot and what a few passes add while it is written
    assertThat(mostHeld).isLessThan(2 * Math.max(16 << 10, fileSize(db())));
    assertThat(Chain.files(dir.resolve("b"), 0).size()).as("b took the snapshot instead of the dropped files")
        .isLessThan(Chain.files(dir.resolve("a"), 0).size());
    assertReplicaEqualsDatabase(dir.resolve("a"));
    assertReplicaEqualsDatabase(dir.resolve("b"));
  }

  private static long fileSize(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void anIdleDatabaseSendsNoRequest() throws Exception {
    Sqlite.create(db());
    var client = new CountingClient(new FileReplicaClient(dir.resolve("r")));
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("r"), List.of(client), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('one')");
      await().atMost(Duration.ofSeconds(10)).until(() -> m.uploaders().getFirst().txid() == 2);
      Thread.sleep(1500); // a checkpoint may still follow the write
      long before = client.requests.get();
      Thread.sleep(2000); // 20 sync intervals
      assertThat(client.requests.get()).isEqualTo(before);
      m.stop();
    }
  }

  @Test
  void theWritersAutocheckpointWhileStrataIsStoppedLeadsToASnapshotWithAReason() throws Exception {
    Sqlite.create(db());
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("r"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      try (Writer w = Writer.start(db(), 50, 0)) {
        w.await();
      }
      assertThat(m.stop()).isTrue();
    }
    // python's connection keeps SQLite's default autocheckpoint (1000 pages): the WAL restarts while stopped
    try (Writer w = Writer.start(db(), 3000, 0)) {
      w.await();
    }
    try (LogCapture logs = new LogCapture(WalCapture.class);
        DatabaseMonitor m = DatabaseMonitor.open(spec("r"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      assertThat(logs.messages()).anyMatch(msg -> msg.contains("snapshot at TXID") && msg.contains("no longer matches"));
      assertThat(m.stop()).isTrue();
    }
    assertThat(Chain.files(dir.resolve("r"), 9)).hasSize(2);
    assertReplicaEqualsDatabase(dir.resolve("r"));
  }

  @Test
  void withoutLocalStateADatabaseEqualToTheReplicaContinuesItsChain() throws Exception {
    Sqlite.create(db());
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("r"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('a'); INSERT INTO t(v) VALUES ('b');");
      assertThat(m.stop()).isTrue();
    }
    long txid = Chain.of(dir.resolve("r")).maxTxid();
    // the meta directory is lost (a new host, a restore from the replica): the database still equals the replica
    DirectoryTree.delete(DatabaseSpec.defaultMeta(db()));
    try (LogCapture logs = new LogCapture(WalCapture.class);
        DatabaseMonitor m = DatabaseMonitor.open(spec("r"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      assertThat(logs.messages()).anyMatch(msg -> msg.contains("equals the replica's latest position"));
      Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('c')");
      assertThat(m.stop()).isTrue();
      assertThat(m.capture().txid()).isEqualTo(txid + 1);
    }
    assertThat(Chain.files(dir.resolve("r"), 9)).hasSize(1);
    // lost again, and this time the database changed meanwhile: a snapshot above the replica's TXIDs
    DirectoryTree.delete(DatabaseSpec.defaultMeta(db()));
    Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('d')");
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("r"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      assertThat(m.capture().txid()).isEqualTo(txid + 2);
      assertThat(m.stop()).isTrue();
    }
    assertThat(Chain.files(dir.resolve("r"), 9)).hasSize(2);
    assertReplicaEqualsDatabase(dir.resolve("r"));
  }

  @Test
  void aReplicaAddedLaterGetsASnapshotAndTheChainFromThere() throws Exception {
    addAReplicaLater(20);
    assertThat(Chain.files(dir.resolve("b"), 9)).hasSize(1);
    assertThat(Chain.of(dir.resolve("b")).postApplyChecksum()).isEqualTo(Chain.of(dir.resolve("a")).postApplyChecksum());
  }

  /** The same while nothing is written: the new replica must not wait for the next commit to get its snapshot. */
  @Test
  void aReplicaAddedLaterToAnIdleDatabaseGetsItsSnapshotAtOnce() throws Exception {
    addAReplicaLater(0);
  }

  /** Replicates to "a", then to "a" and "b" while {@code commits} more commits are made; "b" must catch up. */
  private void addAReplicaLater(int commits) throws Exception {
    Sqlite.create(db());
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("a"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      try (Writer w = Writer.start(db(), 50, 0)) {
        w.await();
      }
      assertThat(m.stop()).isTrue();
    }
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("a", "b"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      if (commits > 0) {
        try (Writer w = Writer.start(db(), commits, 0)) {
          w.await();
        }
      }
      await().atMost(Duration.ofSeconds(commits > 0 ? 90 : 30))
          .until(() -> m.uploaders().get(1).txid() == m.capture().txid());
      assertThat(m.stop()).isTrue();
    }
    assertReplicaEqualsDatabase(dir.resolve("b"));
  }

  /**
   * A database past 1 GiB holds SQLite's lock page (the page at byte offset 2^30), which is never written: the
   * snapshot, the level-0 files and the checksums must all skip it, and commits to pages after it must replicate.
   * Zero-filled blobs keep the 1.1 GiB cheap to write and to compress.
   */
  @Test
  void aDatabaseLargerThanOneGibibyteReplicatesAcrossTheLockPage() throws Exception {
    Sqlite.cli(db(), "PRAGMA page_size=65536; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE big(b);"
        + " WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1100)"
        + " INSERT INTO big SELECT zeroblob(1048576) FROM n; PRAGMA journal_mode=WAL;");
    assertThat(Files.size(db())).isGreaterThan(1L << 30);
    try (DatabaseMonitor m = DatabaseMonitor.open(spec("file"), ReplicaUpkeep.Factory.NONE)) {
      m.start();
      // new rows land on pages after the lock page; the updates rewrite blobs on both sides of it
      for (int i = 0; i < 20; i++) Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('after the lock page " + i + "')");
      Sqlite.cli(db(), "UPDATE big SET b = randomblob(100000) WHERE rowid IN (1, 1020, 1030, 1100);"
          + " DELETE FROM big WHERE rowid = 1099;");
      assertThat(m.stop()).isTrue();
    }
    assertReplicaEqualsDatabase(dir.resolve("file"));
    Path restored = dir.resolve("restored-file.db");
    String q = "SELECT count(*), sum(length(b)), hex(substr(b, 1, 16)) FROM big WHERE rowid = 1030";
    assertThat(Sqlite.cli(restored, q)).isEqualTo(Sqlite.cli(db(), q));
  }

  @Test
  void killNineMidSyncThenRestartContinuesWithoutASnapshot() throws Exception {
    Sqlite.create(db());
    Path replica = dir.resolve("r");
    // the WAL only restarts when someone checkpoints it: here nobody does, so it proves continuity across kills
    Process agent;
    try (Writer w = Writer.start(db(), 5000, 0.002, 0)) {
      for (int round = 0; round < 3; round++) {
        agent = startAgent(replica);
        long files = Chain.files(replica, 0).size();
        await().atMost(Duration.ofSeconds(90)).until(() -> Chain.files(replica, 0).size() >= files + 3);
        agent.destroyForcibly().waitFor(); // SIGKILL, most likely in the middle of a pass
      }
      agent = startAgent(replica); // while the writer still writes: the WAL stays (no last-connection checkpoint)
      w.await();
    }
    agent.getOutputStream().close(); // graceful stop: final pass and upload
    assertThat(agent.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(agent.exitValue()).isZero();
    assertThat(Chain.files(replica, 9)).as("no snapshot after a kill -9 while the WAL proves continuity").hasSize(1);
    // the writer started before the first agent, so the snapshot at TXID 1 holds its first commits
    assertThat(Chain.of(replica).maxTxid()).isBetween(1000L, 5001L);
    assertReplicaEqualsDatabase(replica);
  }

  private Process startAgent(Path replica) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), "dev.strata.agent.testing.AgentMain", db().toString(),
        replica.toString(), "50", "1000000").redirectError(ProcessBuilder.Redirect.INHERIT).start();
    var out = new BufferedReader(new InputStreamReader(p.getInputStream()));
    String line = out.readLine();
    while (line != null && !line.startsWith("started")) line = out.readLine(); // skip logging's status lines
    assertThat(line).startsWith("started");
    return p;
  }
}
