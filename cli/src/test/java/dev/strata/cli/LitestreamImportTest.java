package dev.strata.cli;

import static dev.strata.cli.RestoreCommandsTest.strata;
import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.litestream.LitestreamSets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata import} of the golden Litestream sets: every MANIFEST.md expectation then holds on the Strata
 * replica (times kept), and {@code strata replicate} continues the same database there without a new snapshot.
 */
class LitestreamImportTest {
  @TempDir Path dir;

  @Test
  void ls03ImportKeepsEveryExpectedRestoreAndReplicationContinues() throws Exception {
    Path src = LitestreamSets.copyReplica("ls03-basic", dir.resolve("ls"));
    LitestreamSets.restoreTimes(new FileReplicaClient(src), src, LitestreamSets.oracle("ls03-basic"), dir);
    Path dst = dir.resolve("strata");
    var run = strata("import", src.toString(), dst.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("imported 89 restore points of the Litestream 0.3 replica")
        .contains("verified 5 restore points");
    expectationsHold("ls03-basic", dst);
    continueReplicating(dst, 89);
  }

  @Test
  void ls05ImportKeepsEveryExpectedRestore() throws Exception {
    Path dst = dir.resolve("strata");
    var run = strata("import", LitestreamSets.set("ls05-levels").resolve("replica").toString(), dst.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("of the Litestream 0.5 replica").contains("verified 5 restore points");
    expectationsHold("ls05-levels", dst);
  }

  @Test
  void importRefusesANonEmptyDestination() throws Exception {
    Path dst = dir.resolve("strata");
    Path src = LitestreamSets.set("ls05-levels").resolve("replica");
    assertThat(strata("import", "--samples", "0", src.toString(), dst.toString()).exit()).isZero();
    var again = strata("import", src.toString(), dst.toString());
    assertThat(again.exit()).isNotZero();
    assertThat(again.err()).contains("already holds Strata files");
  }

  private void expectationsHold(String set, Path dst) throws Exception {
    int n = 0;
    for (LitestreamSets.Expected e : LitestreamSets.expected(set)) {
      Path out = dir.resolve(set + "-" + n++ + ".db");
      var r = e.time() == null ? strata("restore", "-o", out.toString(), dst.toString())
          : strata("restore", "-o", out.toString(), "-timestamp", e.time().toString(), dst.toString());
      assertThat(r.exit()).as(r.err()).isZero();
      assertThat(LitestreamSets.digest(out).sha256()).as(set + " at " + e.time()).isEqualTo(e.sha256());
    }
  }

  /** The imported latest state, replicated by the agent to the imported replica: its chain goes on. */
  private void continueReplicating(Path dst, long lastTxid) throws Exception {
    Path live = dir.resolve("live.db");
    assertThat(strata("restore", "-o", live.toString(), dst.toString()).exit()).isZero();
    DatabaseSpec spec = DatabaseSpec.of(live, List.of(new ReplicaSpec("file", dst.toString())))
        .withSyncInterval(Duration.ofMillis(100));
    var log = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    log.start();
    var root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(log);
    root.setLevel(ch.qos.logback.classic.Level.INFO); // an in-process restore may have quietened it
    try (DatabaseMonitor m = DatabaseMonitor.open(spec, ReplicaUpkeep.Factory.NONE)) {
      m.start();

      // the connection stays open until the agent has captured the commit: closing the last one checkpoints the
      // WAL away, which the agent answers with a snapshot
      try (var c = DriverManager.getConnection("jdbc:sqlite:" + live); var s = c.createStatement()) {
        s.execute("INSERT INTO items (k, v, note) VALUES ('after-import', 1, 'strata')");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (new FileReplicaClient(dst).listFiles(0).stream().noneMatch(f -> f.maxTxid() > lastTxid)
            && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(m.stop()).isTrue();
      }
    }
    root.detachAppender(log);
    var client = new FileReplicaClient(dst);
    String agentLog = String.join("\n", log.list.stream().map(e -> e.getFormattedMessage()).toList());
    assertThat(agentLog).contains("equals the replica's latest position (TXID " + dev.strata.ltx.Txid.format(lastTxid));
    assertThat(client.listFiles(9)).as(agentLog).hasSize(1); // no new snapshot: the chain continued
    long max = client.listFiles(0).stream().mapToLong(f -> f.maxTxid()).max().orElseThrow();
    assertThat(max).isGreaterThan(lastTxid);
    Path again = dir.resolve("again.db");
    assertThat(strata("restore", "-o", again.toString(), dst.toString()).exit()).isZero();
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + again); var s = c.createStatement();
        var rs = s.executeQuery("SELECT count(*) FROM items WHERE k = 'after-import'")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(1);
    }
  }
}
