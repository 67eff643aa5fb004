package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import dev.strata.server.store.DbRow;
import dev.strata.server.store.Rows;
import dev.strata.server.store.SpooledLtx;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /db/snapshot} and snapshots built from storage: litefs-backup's WriteSnapshotTo golden checksums. */
class SnapshotTest {
  @TempDir Path dir;
  TestServer ts;
  ServerClient client;

  @BeforeEach
  void start() throws Exception {
    ts = new TestServer(dir);
    client = ts.client("c1");
  }

  @AfterEach
  void stop() throws Exception {
    ts.close();
  }

  static byte[] snapshot16(int commit) {
    Map<Integer, byte[]> pages = commit == 0 ? Map.of() : Map.of(1, TestDb.fill(512, '5'), 2, TestDb.fill(512, '6'));
    long post = commit == 0 ? Checksum.EMPTY_DATABASE : 0xad2dffe333333333L;
    return TestDb.encode(LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, 512, commit, 1, 6, 0, 0), pages, post);
  }

  static LtxFileInfo verify(byte[] ltx) throws Exception {
    return LtxDecoder.verify(new ByteArrayInputStream(ltx));
  }

  @Test
  void localSnapshotMatchesGolden() throws Exception {
    client.writeTx("db", snapshot16(2));
    byte[] got = client.snapshotBytes("db", null);
    LtxFileInfo info = verify(got);
    assertThat(info.header().flags()).isEqualTo(LtxHeader.FLAG_COMPRESS_LZ4);
    assertThat(Checksum.format(info.trailer().fileChecksum())).isEqualTo("bb0e2065ff682755");
    assertThat(client.snapshotBytes("db", "ltx")).isEqualTo(got);
  }

  @Test
  void localZeroCommitSnapshotMatchesGolden() throws Exception {
    client.writeTx("db", snapshot16(0));
    assertThat(Checksum.format(verify(client.snapshotBytes("db", null)).trailer().fileChecksum()))
        .isEqualTo("8553be86dc216640");
  }

  @Test
  void sqliteFormatIsTheRawDatabase() throws Exception {
    client.writeTx("db", snapshot16(2));
    ServerClient.Download d = client.snapshot("db", "sqlite");
    byte[] got = d.body().readAllBytes();
    assertThat(d.length()).isEqualTo(1024);
    assertThat(got).isEqualTo((new String(TestDb.fill(512, '5')) + new String(TestDb.fill(512, '6')))
        .getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void unknownFormatAndDatabase() throws Exception {
    client.writeTx("db", snapshot16(2));
    HttpResponse<byte[]> r = ts.raw("GET", "/db/snapshot?db=db&format=zip", "cluster c1", null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"code\":\"EBADFORMAT\",\"error\":\"unsupported snapshot format\"}\n");
    r = ts.raw("GET", "/db/snapshot?db=nope", "cluster c1", null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"code\":\"ENODB\",\"error\":\"database not found\"}\n");
  }

  /** Pushes TXIDs 1–6 out of level 0 so that only storage can rebuild them. */
  private DbRow onlyInStorage(byte[] snapshot, long post) throws Exception {
    client.writeTx("db", snapshot);
    ts.server.scheduler().runLevel(1);
    long pre = post;
    for (int i = 7; i <= 8; i++) {
      ts.clock.advance(Duration.ofHours(2));
      byte[] page = TestDb.fill(512, (char) ('0' + i));
      long after = Checksum.roll(Checksum.EMPTY_DATABASE, 0, Checksum.ofPage(1, page)); // commit 1: just page 1
      client.writeTx("db", TestDb.encode(LtxHeader.of(1, 512, 1, i, i, 0, pre), Map.of(1, page), after));
      ts.server.scheduler().runLevel(1);
      pre = after;
    }
    DbRow db = ts.server.store().read(c -> Rows.findDb(c, "c1", "db"));
    Object txn6 = ts.server.store().read(c -> Rows.txnByMax(c, db.id(), 6));
    assertThat(txn6).as("txn 6 left level 0").isNull();
    return db;
  }

  @Test
  void remoteSnapshotMatchesGolden() throws Exception {
    DbRow db = onlyInStorage(snapshot16(2), 0xad2dffe333333333L);
    try (SpooledLtx s = ts.server.service().snapshotAt(db, 6)) {
      assertThat(Checksum.format(s.info().trailer().fileChecksum())).isEqualTo("bb0e2065ff682755");
    }
  }

  @Test
  void remoteZeroCommitSnapshotMatchesGolden() throws Exception {
    DbRow db = onlyInStorage(snapshot16(0), Checksum.EMPTY_DATABASE);
    try (SpooledLtx s = ts.server.service().snapshotAt(db, 6)) {
      assertThat(Checksum.format(s.info().trailer().fileChecksum())).isEqualTo("8553be86dc216640");
    }
  }

  @Test
  void txidAheadOrInsideAFileIsNotAvailable() throws Exception {
    DbRow db = onlyInStorage(snapshot16(2), 0xad2dffe333333333L);
    assertThatThrownBy(() -> ts.server.service().snapshotAt(db, 5)).isInstanceOfSatisfying(ApiException.class,
        e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.ENOTXID);
          assertThat(e.getMessage()).isEqualTo("tx not available: 0000000000000005 is not a restore point;"
              + " nearest: 0000000000000006");
        });
    assertThatThrownBy(() -> client.restoreCheck("db", 9L, null)).isInstanceOfSatisfying(ServerException.class,
        e -> assertThat(e.code()).isEqualTo("ENOTXID"));
    ServerClient.Check check = client.restoreCheck("db", 6L, null);
    assertThat(check).isEqualTo(new ServerClient.Check(6, "1970-01-01T00:00:00Z"));
  }

  @Test
  void snapshotStreamsAreVerifiableWhileLarge() throws Exception {
    TestDb db = new TestDb(4096);
    java.util.Map<Integer, byte[]> pages = new java.util.TreeMap<>();
    java.util.Random rnd = new java.util.Random(1);
    for (int p = 1; p <= 3000; p++) {
      byte[] b = new byte[4096];
      rnd.nextBytes(b);
      pages.put(p, b);
    }
    client.writeTx("db", db.commit(pages, 3000, 0));
    try (InputStream in = client.snapshot("db", null).body()) {
      LtxFileInfo info = LtxDecoder.verify(in);
      assertThat(info.pageCount()).isEqualTo(3000);
      assertThat(info.trailer().postApplyChecksum()).isEqualTo(db.checksum);
    }
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
    assertThat(client.positions().get("db")).isEqualTo(new Pos(1, db.checksum));
  }
}
