package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.testing.FakeClock;
import dev.strata.server.client.ServerClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LiteFS's backup-client scenarios (mount_test.go TestSingleNode_BackupClient) against the real server. */
class LiteFsClientTest {
  @TempDir Path dir;
  TestServer ts;
  ServerClient server;
  LiteFsLikeClient node;
  final Random rnd = new Random(11);

  /**
   * Storage for levels 1–9; null for the embedded file storage. A subclass backed by S3Proxy overrides this once
   * the S3 backend is available.
   */
  protected dev.strata.replica.ReplicaClient storage(Path root) throws Exception {
    return null;
  }

  @BeforeEach
  void start() throws Exception {
    ts = new TestServer(dir.resolve("data"),
        new FakeClock(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)), c -> c,
        storage(dir.resolve("storage")));
    server = ts.client("prod");
    node = new LiteFsLikeClient(server);
  }

  @AfterEach
  void stop() throws Exception {
    ts.close();
  }

  private void randomWrite(String name) {
    LiteFsLikeClient.Local l = node.dbs.get(name);
    int commit = l == null ? 1 + rnd.nextInt(4) : Math.max(1, l.db.commit + rnd.nextInt(4) - 1);
    Map<Integer, byte[]> changes = new TreeMap<>();
    for (int p = 1; p <= commit; p++) {
      if (l == null || p > l.db.commit || rnd.nextInt(4) == 0) {
        byte[] b = new byte[4096];
        rnd.nextBytes(b);
        changes.put(p, b);
      }
    }
    node.write(name, 4096, changes, commit, ts.clock.millis());
  }

  /** The node and the server agree on position and bytes for every database. */
  private void assertConverged() throws Exception {
    node.sync();
    assertThat(server.positions().keySet()).containsExactlyElementsOf(node.dbs.keySet());
    for (Map.Entry<String, LiteFsLikeClient.Local> e : node.dbs.entrySet()) {
      assertThat(server.positions().get(e.getKey())).isEqualTo(e.getValue().db.pos());
      assertThat(server.snapshotBytes(e.getKey(), "sqlite")).isEqualTo(e.getValue().db.bytes());
    }
  }

  @Test
  void streamsSnapshotThenBatches() throws Exception {
    for (int i = 0; i < 5; i++) randomWrite("db");
    node.sync();
    assertThat(node.snapshotsSent).isEqualTo(1);
    for (int i = 0; i < 300; i++) randomWrite("db");
    node.sync(); // 256 files
    node.sync(); // the other 44
    assertThat(node.uploads).isEqualTo(2);
    assertConverged();
    assertThat(node.restores).isZero();
  }

  @Test
  void emptyDatabaseSnapshot() throws Exception {
    node.write("empty", 4096, Map.of(), 0, 0);
    assertConverged();
    assertThat(server.snapshotBytes("empty", "sqlite")).isEmpty();
    randomWrite("empty");
    assertConverged();
  }

  @Test
  void noLocalDatabaseRestoresFromBackup() throws Exception {
    for (int i = 0; i < 3; i++) randomWrite("db");
    node.sync();
    LiteFsLikeClient fresh = new LiteFsLikeClient(server);
    fresh.sync();
    assertThat(fresh.restores).isEqualTo(1);
    assertThat(fresh.dbs.get("db").db.bytes()).isEqualTo(node.dbs.get("db").db.bytes());
  }

  @Test
  void serverSideRestoreReachesTheNode() throws Exception {
    for (int i = 0; i < 3; i++) {
      randomWrite("db");
      node.sync();
    }
    byte[] atTwo = server.snapshotBytes("db", "sqlite");
    randomWrite("db");
    node.sync();
    // Restore to TXID 3 on the server; the node wrote two more meanwhile.
    long restored = server.restore("db", 3L, null);
    assertThat(restored).isEqualTo(5);
    randomWrite("db");
    randomWrite("db");
    node.sync(); // its next upload starts at 5 with the wrong checksum: 409, refetch
    assertThat(node.restores).isEqualTo(1);
    assertThat(node.dbs.get("db").db.bytes()).isEqualTo(atTwo);
    randomWrite("db");
    assertConverged();
  }

  @Test
  void remoteAheadAndChecksumMismatch() throws Exception {
    randomWrite("a");
    randomWrite("b");
    node.sync();
    randomWrite("a");
    node.sync();
    assertThat(server.restore("a", 1L, null)).isEqualTo(3); // server TXID 3 > node's 2: remote ahead
    randomWrite("b");
    node.sync();
    assertThat(node.restores).isEqualTo(1);
    // Equal TXID, different content: the server wins.
    LiteFsLikeClient other = new LiteFsLikeClient(server);
    other.sync();
    randomWrite("b");
    node.sync();
    other.write("b", 4096, Map.of(1, TestDb.fill(4096, 'q')), other.dbs.get("b").db.commit, 0);
    other.sync();
    assertThat(other.restores).isEqualTo(3); // a, b on first contact, then the mismatch on b
    assertThat(other.dbs.get("b").db.bytes()).isEqualTo(node.dbs.get("b").db.bytes());
  }

  @Test
  void convergesWhileCompactingAndRestoring() throws Exception {
    long restorePoint = 0;
    for (int round = 0; round < 20; round++) {
      for (String name : new String[] {"a", "b", "c"}) {
        for (int i = rnd.nextInt(4); i > 0; i--) randomWrite(name);
      }
      node.sync();
      if (round % 3 == 0) ts.server.scheduler().runLevel(1);
      if (round % 5 == 4) ts.compactAll();
      if (round == 10) restorePoint = server.positions().get("b").txid(); // an upload boundary
      if (round == 12) server.restore("b", restorePoint, null);
      ts.clock.advance(Duration.ofMinutes(7));
    }
    assertConverged();
    ts.compactAll();
    // Storage alone rebuilds the newest state of every database.
    for (String name : node.dbs.keySet()) {
      long txid = node.dbs.get(name).db.txid;
      try (var s = ts.server.service().snapshotAt(ts.db("prod", name), txid)) {
        assertThat(s.info().trailer().postApplyChecksum()).isEqualTo(node.dbs.get(name).db.checksum);
      }
    }
  }
}
