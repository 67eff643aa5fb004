package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import dev.strata.replica.testing.FakeClock;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restores, restore checks, timestamp lookup and {@code /db/info}: litefs-backup's RestoreToTx cases. */
class RestoreTest {
  static final Instant RESTORE_TIME = Instant.parse("2023-06-15T14:00:00Z");

  @TempDir Path dir;
  TestServer ts;
  ServerClient client;

  /** Storage for levels 1–9; null for the embedded file storage (a subclass runs these tests on S3). */
  protected dev.strata.replica.ReplicaClient storage() throws Exception {
    return null;
  }

  @BeforeEach
  void start() throws Exception {
    ts = new TestServer(dir.resolve("data"),
        new FakeClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)), c -> c, storage());
    client = ts.client("c1");
  }

  @AfterEach
  void stop() throws Exception {
    ts.close();
  }

  private String snapshotChecksum() throws Exception {
    byte[] snap = client.snapshotBytes("db", null);
    return Checksum.format(LtxDecoder.verify(new ByteArrayInputStream(snap)).trailer().fileChecksum());
  }

  @Test
  void sameSize() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), 0));
    ts.clock.set(RESTORE_TIME);
    assertThat(client.restore("db", 1L, null)).isEqualTo(3);
    assertThat(client.positions().get("db")).isEqualTo(new Pos(3, 0xeb1a999231044dddL));
    assertThat(snapshotChecksum()).isEqualTo("d3745d48bef1677c");
  }

  @Test
  void restoredStateIsLongerThanCurrent() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1'), 2, db.fill('2')), 0));
    client.writeTx("db", db.commit(Map.of(1, db.fill('3')), 1, 0));
    ts.clock.set(RESTORE_TIME);
    assertThat(client.restore("db", 1L, null)).isEqualTo(3);
    assertThat(snapshotChecksum()).isEqualTo("bda6246263241293");
  }

  @Test
  void restoredStateIsShorterThanCurrent() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    client.writeTx("db", db.commit(Map.of(2, db.fill('2')), 2, 0));
    ts.clock.set(RESTORE_TIME);
    assertThat(client.restore("db", 1L, null)).isEqualTo(3);
    assertThat(client.positions().get("db")).isEqualTo(new Pos(3, 0xeb1a999231044dddL));
    assertThat(snapshotChecksum()).isEqualTo("d3745d48bef1677c");
  }

  @Test
  void restoreToCurrentIsNoOpAndAheadIsNotAvailable() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), 0));
    assertThat(client.restore("db", 2L, null)).isEqualTo(2);
    assertThat(client.positions().get("db").txid()).isEqualTo(2);
    assertThatThrownBy(() -> client.restore("db", 3L, null)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.status()).isEqualTo(404);
      assertThat(e.code()).isEqualTo("ENOTXID");
    });
    assertThatThrownBy(() -> client.restore("nope", 1L, null)).isInstanceOfSatisfying(ServerException.class,
        e -> assertThat(e.code()).isEqualTo("ENODB"));
  }

  @Test
  void largeShrinkRoundTrips() throws Exception {
    TestDb db = new TestDb(4096);
    Random rnd = new Random(7);
    Map<Integer, byte[]> pages = new TreeMap<>();
    for (int p = 1; p <= 500; p++) {
      byte[] b = new byte[4096];
      rnd.nextBytes(b);
      pages.put(p, b);
    }
    client.writeTx("db", db.commit(pages, 500, 0));
    byte[] large = db.bytes();
    Pos largePos = db.pos();
    client.writeTx("db", db.commit(Map.of(3, db.fill('s')), 10, 0));
    byte[] small = db.bytes();
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(small);
    long txid = client.restore("db", 1L, null);
    assertThat(client.positions().get("db")).isEqualTo(new Pos(txid, largePos.postApplyChecksum()));
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(large);
    assertThat(client.restore("db", 2L, null)).isEqualTo(txid + 1);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(small);
  }

  @Test
  void txidInsideAnUploadIsNotARestorePoint() throws Exception {
    TestDb db = new TestDb(512);
    byte[] first = TestDb.encode(LtxHeader.of(1, 512, 1, 1, 3, 0, 0), Map.of(1, db.fill('1')), 0xeb1a999231044dddL);
    client.writeTx("db", first);
    db.replace(new TreeMap<>(Map.of(1, db.fill('1'))), 1, new Pos(3, 0xeb1a999231044dddL));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), 0));
    assertThatThrownBy(() -> client.restore("db", 2L, null)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.code()).isEqualTo("ENOTXID");
      assertThat(e.getMessage()).isEqualTo("tx not available: 0000000000000002 is not a restore point;"
          + " nearest: 0000000000000003");
    });
    assertThat(client.positions().get("db").txid()).isEqualTo(4);
  }

  /** TX1 at t, TX2 at t+10m, each flushed and compacted into level 2. */
  private Instant twoRestorePoints(boolean alsoLevel3) throws Exception {
    Instant t = Instant.parse("2025-03-01T12:00:00Z");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), t.toEpochMilli()));
    ts.compactAll();
    if (alsoLevel3) ts.clock.advance(Duration.ofDays(31));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), t.plus(Duration.ofMinutes(10)).toEpochMilli()));
    ts.compactAll();
    return t;
  }

  @Test
  void timestampLookupUsesLevel2() throws Exception {
    Instant t = twoRestorePoints(false);
    assertThat(client.restoreCheck("db", null, t.plus(Duration.ofMinutes(1))))
        .isEqualTo(new ServerClient.Check(1, "2025-03-01T12:00:00Z"));
    assertThat(client.restore("db", null, t.plus(Duration.ofMinutes(1)))).isEqualTo(3);
    assertThat(client.positions().get("db").postApplyChecksum()).isEqualTo(0xeb1a999231044dddL);
    assertThatThrownBy(() -> client.restoreCheck("db", null, t.minus(Duration.ofSeconds(1))))
        .isInstanceOfSatisfying(ServerException.class, e -> {
          assertThat(e.status()).isEqualTo(404);
          assertThat(e.code()).isEqualTo("ENOTIMESTAMP");
        });
  }

  @Test
  void restorePointsLeaveWithTheirRetentionWindow() throws Exception {
    Instant t = ts.clock.instant();
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), t.toEpochMilli()));
    ts.compactAll();
    ts.clock.advance(Duration.ofDays(31));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), ts.clock.millis()));
    ts.compactAll();
    ts.clock.advance(Duration.ofMinutes(10)); // and level-0 staging moves on past TXID 1
    client.writeTx("db", db.commit(Map.of(1, db.fill('3')), ts.clock.millis()));
    ts.server.scheduler().runLevel(1);
    // TXID 1 is 31 days old: outside every level's window, so its files went.
    assertThat(client.info("db", true).restorablePaths()).extracting(ServerClient.RestorePoint::maxTxid).containsExactly(2L, 3L);
    assertThatThrownBy(() -> client.restoreCheck("db", null, t.plus(Duration.ofMinutes(1))))
        .isInstanceOfSatisfying(ServerException.class, e -> assertThat(e.code()).isEqualTo("ENOTIMESTAMP"));
    assertThat(client.restoreCheck("db", null, ts.clock.instant().minusSeconds(1)).txid()).isEqualTo(2);
    for (int level = 1; level <= 3; level++) {
      assertThat(ts.server.jobs().storage("c1", "db").listFiles(level)).extracting(f -> f.minTxid())
          .as("level %d", level).doesNotContain(1L);
    }
  }

  @Test
  void infoListsLevel2RestorePoints() throws Exception {
    twoRestorePoints(false);
    HttpResponse<byte[]> r = ts.raw("GET", "/db/info?db=db", "cluster c1", null);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("""
        {
          "name": "db",
          "restorablePaths": [
            {
              "maxTxId": "0000000000000001",
              "maxTimestamp": "2025-03-01T12:00:00Z",
              "postApplyChecksum": "eb1a999231044ddd"
            },
            {
              "maxTxId": "0000000000000002",
              "maxTimestamp": "2025-03-01T12:10:00Z",
              "postApplyChecksum": "c6e57aa102377eee"
            }
          ]
        }""");
    assertThat(client.info("db", true).restorablePaths()).hasSize(2);
    HttpResponse<byte[]> none = ts.raw("GET", "/db/info?db=nope", "cluster c1", null);
    assertThat(none.statusCode()).isEqualTo(404);
  }

  @Test
  void pointsOnlyStorageHoldsCarryTheirChecksumAndTime() throws Exception {
    TestDb db = new TestDb(512);
    Instant t1 = ts.clock.instant();
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), t1.toEpochMilli()));
    long c1 = db.pos().postApplyChecksum();
    ts.compactAll();
    for (char c : new char[] {'2', '3'}) { // staging moves on past TXID 1
      ts.clock.advance(Duration.ofMinutes(10));
      client.writeTx("db", db.commit(Map.of(1, db.fill(c)), ts.clock.millis()));
      ts.server.scheduler().runLevel(1);
    }
    assertThat(ts.localTxids("c1", "db")).doesNotContain(1L);
    // On S3 the listing carries neither: they are read (one HEAD per file, once) for the answer.
    for (int i = 0; i < 2; i++) {
      ServerClient.RestorePoint first = client.info("db", true).restorablePaths().getFirst();
      assertThat(first.maxTxid()).isEqualTo(1);
      assertThat(first.postApplyChecksum()).isEqualTo(c1);
      assertThat(Instant.parse(first.maxTimestamp())).isEqualTo(t1);
    }
  }

  @Test
  void infoListsStagedPointsBeforeAnyCompaction() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    HttpResponse<byte[]> r = ts.raw("GET", "/db/info?db=db", "cluster c1", null);
    // One point: litefs-backup's summary shape lists it as first and last.
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("""
        {
          "name": "db",
          "restorablePaths": [
            {
              "maxTxId": "0000000000000001",
              "maxTimestamp": "1970-01-01T00:00:00Z",
              "postApplyChecksum": "eb1a999231044ddd"
            },
            {
              "maxTxId": "0000000000000001",
              "maxTimestamp": "1970-01-01T00:00:00Z",
              "postApplyChecksum": "eb1a999231044ddd"
            }
          ]
        }""");
  }

  @Test
  void restoreParameterValidation() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    String[][] cases = {
      {"", "'txid' or 'timestamp' required"},
      {"&txid=0000000000000000", "'txid' or 'timestamp' required"},
      {"&txid=12", "invalid txid"},
      {"&timestamp=yesterday", "invalid timestamp"},
      {"&txid=0000000000000001&timestamp=2025-01-01T00:00:00Z", "can't specify both 'txid' and 'timestamp'"},
    };
    for (String[] c : cases) {
      for (String path : new String[] {"/db/restore/check", "/db/restore"}) {
        HttpResponse<byte[]> r = ts.raw(path.endsWith("check") ? "GET" : "POST", path + "?db=db" + c[0],
            "cluster c1", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(new String(r.body(), StandardCharsets.UTF_8))
            .isEqualTo("{\"code\":\"EBADINPUT\",\"error\":\"" + c[1].replace("'", "'") + "\"}\n");
      }
    }
  }
}
