package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.Pos;
import dev.strata.ltx.TxidRange;
import dev.strata.server.client.ServerClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata serve --import-lfsb}: a litefs-backup deployment built from the spec (§4.2 metadata, §4.7 bucket
 * layout) is adopted with its positions, restore points and storage, and LiteFS continues without a snapshot.
 */
class LfsbImportTest {
  @TempDir Path dir;

  /** litefs-backup's schema (its dbmate migration, spec §4.2). */
  private static final String[] LFSB_SCHEMA = {
    "CREATE TABLE databases (id INTEGER PRIMARY KEY AUTOINCREMENT, cluster TEXT NOT NULL, name TEXT NOT NULL,"
        + " hwm INTEGER NOT NULL DEFAULT 0, UNIQUE(cluster, name)) STRICT",
    "CREATE TABLE txns (db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE, min_txid INTEGER NOT NULL,"
        + " max_txid INTEGER NOT NULL, page_size INTEGER NOT NULL, \"commit\" INTEGER NOT NULL, timestamp TEXT NOT NULL,"
        + " pre_apply_checksum BLOB, post_apply_checksum BLOB NOT NULL, PRIMARY KEY (db_id, min_txid, max_txid)) STRICT",
    "CREATE TABLE pages (db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE, pgno INTEGER NOT NULL,"
        + " min_txid INTEGER NOT NULL, max_txid INTEGER NOT NULL, chksum BLOB NOT NULL, nonce BLOB, tag BLOB,"
        + " data BLOB NOT NULL, PRIMARY KEY (db_id, pgno, max_txid, min_txid)) STRICT",
    "CREATE TABLE compaction_requests (db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,"
        + " level INTEGER NOT NULL, idempotency_key INTEGER NOT NULL, PRIMARY KEY (db_id, level)) STRICT",
  };

  @Test
  void aLitefsBackupDeploymentIsAdoptedAndLitefsContinuesWithoutASnapshot() throws Exception {
    Path lfsbData = dir.resolve("lfsb/data"), bucket = dir.resolve("bucket");
    Files.createDirectories(lfsbData);
    TestDb db = new TestDb(512);
    List<byte[]> files = new ArrayList<>();
    long t0 = Instant.now().minusSeconds(60).toEpochMilli(); // within every retention
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("lfsb/server.db"));
        Statement s = c.createStatement()) {
      for (String ddl : LFSB_SCHEMA) s.execute(ddl);
      s.execute("INSERT INTO databases (id, cluster, name, hwm) VALUES (7, 'prod', 'app.db', 3)");
      s.execute("INSERT INTO compaction_requests VALUES (7, 1, 42)");
      try (PreparedStatement txn = c.prepareStatement("INSERT INTO txns VALUES (7, ?, ?, 512, ?, ?, ?, ?)");
          PreparedStatement page = c.prepareStatement("INSERT INTO pages VALUES (7, ?, ?, ?, ?, NULL, NULL, ?)")) {
        for (int t = 1; t <= 6; t++) {
          Pos before = db.pos();
          Map<Integer, byte[]> changes = new TreeMap<>(Map.of(1, TestDb.fill(512, (char) ('a' + t))));
          if (t % 2 == 0) changes.put(db.commit + 1, TestDb.fill(512, (char) ('A' + t)));
          int commit = Math.max(db.commit, changes.keySet().stream().max(Integer::compare).orElseThrow());
          files.add(db.commit(changes, commit, t0 + t * 1000L));
          txn.setLong(1, t);
          txn.setLong(2, t);
          txn.setLong(3, commit);
          txn.setString(4, Instant.ofEpochMilli(t0 + t * 1000L).toString());
          txn.setBytes(5, before.txid() == 0 ? null : blob(before.postApplyChecksum()));
          txn.setBytes(6, blob(db.pos().postApplyChecksum()));
          txn.executeUpdate();
          for (Map.Entry<Integer, byte[]> e : changes.entrySet()) {
            page.setLong(1, e.getKey());
            page.setLong(2, t);
            page.setLong(3, t);
            page.setBytes(4, blob(Checksum.ofPage(e.getKey(), e.getValue())));
            page.setBytes(5, e.getValue());
            page.executeUpdate();
          }
        }
      }
    }
    // litefs-backup flushed TXIDs 1-3 to level 1 of the bucket (its hwm), then stopped.
    List<InputStream> first = new ArrayList<>();
    for (int i = 0; i < 3; i++) first.add(new ByteArrayInputStream(files.get(i)));
    ByteArrayOutputStream l1 = new ByteArrayOutputStream();
    LtxCompactor.lz4().compact(first, l1);
    Path l1File = bucket.resolve("prod/app.db/1").resolve(new TxidRange(1, 3).fileName());
    Files.createDirectories(l1File.getParent());
    Files.write(l1File, l1.toByteArray());
    byte[] at3 = stateAt(files, 3);

    Path data = dir.resolve("strata");
    try (TestServer ts = new TestServer(data, cfg -> cfg.withReplicaUrl(bucket.toString()).withImportLfsb(lfsbData))) {
      ServerClient client = ts.client("prod");
      assertThat(client.positions()).containsExactly(Map.entry("app.db", db.pos()));
      assertThat(client.snapshotBytes("app.db", "sqlite")).isEqualTo(db.bytes());
      assertThat(client.info("app.db", true).restorablePaths()).extracting(ServerClient.RestorePoint::maxTxid)
          .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
      // LiteFS carries on from its position: no snapshot.
      client.writeTx("app.db", db.commit(Map.of(2, TestDb.fill(512, 'z')), t0 + 7000));
      ts.compactAll();
      assertThat(ts.server.store().read(c -> dev.strata.server.store.Rows.findDb(c, "prod", "app.db")).hwm())
          .isEqualTo(7);
      assertThat(client.snapshotBytes("app.db", "sqlite")).isEqualTo(db.bytes());
      // TXID 3 from storage: the file litefs-backup wrote, catalogued at start.
      client.restore("app.db", 3L, null);
      assertThat(client.snapshotBytes("app.db", "sqlite")).isEqualTo(at3);
    }
    // Started again with the flag left on: nothing is adopted twice.
    try (TestServer ts = new TestServer(data, cfg -> cfg.withReplicaUrl(bucket.toString()).withImportLfsb(lfsbData))) {
      assertThat(ts.client("prod").positions().get("app.db").txid()).isEqualTo(8);
    }
  }

  @Test
  void aMissingLitefsBackupMetadataDatabaseIsAOneLineError() {
    assertThatThrownBy(() -> new TestServer(dir.resolve("strata"), cfg -> cfg.withImportLfsb(dir.resolve("none/data"))))
        .hasMessageContaining("no litefs-backup metadata database at").hasMessageNotContaining("\n");
  }

  /** The database after the first {@code n} transactions, rebuilt from their files. */
  private static byte[] stateAt(List<byte[]> files, int n) throws Exception {
    TestDb replay = new TestDb(512);
    TreeMap<Integer, byte[]> pages = new TreeMap<>();
    int commit = 0;
    for (int i = 0; i < n; i++) {
      try (dev.strata.ltx.LtxDecoder d = new dev.strata.ltx.LtxDecoder(new ByteArrayInputStream(files.get(i)))) {
        byte[] buf = new byte[512];
        for (int p; (p = d.readPage(buf)) != 0; ) pages.put(p, buf.clone());
        commit = d.header().commit();
        d.finish();
      }
    }
    replay.replace(pages, commit, Pos.ZERO);
    return replay.bytes();
  }

  private static byte[] blob(long checksum) {
    return ByteBuffer.allocate(8).putLong(checksum).array();
  }
}
