package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /db/tx} and {@code GET /pos} over real HTTP: litefs-backup's WriteTx cases with real checksums. */
class TxProtocolTest {
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

  @Test
  void firstUploadThenIncremental() throws Exception {
    TestDb db = new TestDb(512);
    assertThat(client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 1000))).isZero();
    assertThat(client.positions()).containsExactly(Map.entry("db", new Pos(1, 0xeb1a999231044dddL)));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), 2000));
    assertThat(client.positions().get("db")).isEqualTo(new Pos(2, 0xc6e57aa102377eeeL));
  }

  @Test
  void posJsonIsGoMarshalIndent() throws Exception {
    HttpResponse<byte[]> empty = ts.raw("GET", "/pos", "cluster c1", null);
    assertThat(new String(empty.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 1000));
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), 2000));
    client.writeTx("db", db.commit(Map.of(1, db.fill('3')), 3000));
    HttpResponse<byte[]> r = ts.raw("GET", "/pos", "cluster c1", null);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("""
        {
          "db": {
            "TXID": "0000000000000003",
            "PostApplyChecksum": "cdb0244fecd99000"
          }
        }""");
  }

  @Test
  void successCarriesHighWaterMark() throws Exception {
    TestDb db = new TestDb(512);
    HttpResponse<byte[]> r = ts.raw("POST", "/db/tx?db=db", "cluster c1", db.commit(Map.of(1, db.fill('1')), 0));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEmpty();
    assertThat(r.headers().firstValue("Litefs-Hwm")).hasValue("0000000000000000");
    ts.compactAll();
    r = ts.raw("POST", "/db/tx?db=db", "cluster c1", db.commit(Map.of(1, db.fill('2')), 0));
    assertThat(r.headers().firstValue("Litefs-Hwm")).hasValue("0000000000000001");
  }

  @Test
  void deletionThenGrowth() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    client.writeTx("db", db.commit(Map.of(), 0, 0)); // commit 0: the database is emptied
    assertThat(client.positions().get("db")).isEqualTo(new Pos(2, Checksum.EMPTY_DATABASE));
    client.writeTx("db", db.commit(Map.of(1, db.fill('3'), 2, db.fill('3')), 2, 0));
    assertThat(client.positions().get("db")).isEqualTo(new Pos(3, 0x80d21cd000000000L));
  }

  @Test
  void emptySnapshotIsAccepted() throws Exception {
    TestDb db = new TestDb(4096);
    client.writeTx("db", db.commit(Map.of(), 0, 0));
    assertThat(client.positions().get("db")).isEqualTo(new Pos(1, Checksum.EMPTY_DATABASE));
    assertThat(client.snapshotBytes("db", "sqlite")).isEmpty();
    client.writeTx("db", db.commit(Map.of(1, db.fill('a')), 1, 0));
    assertThat(client.positions().get("db")).isEqualTo(db.pos());
  }

  @Test
  void wrongPreApplyChecksumIsPositionMismatch() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    byte[] bad = TestDb.encode(LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, 512, 1, 2, 2, 0, Checksum.FLAG | 1001),
        Map.of(1, db.fill('2')), 0xc6e57aa102377eeeL);
    HttpResponse<byte[]> r = ts.raw("POST", "/db/tx?db=db", "cluster c1", bad);
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"code\":\"EPOSMISMATCH\",\"error\":"
        + "\"position mismatch\",\"pos\":{\"TXID\":\"0000000000000001\",\"PostApplyChecksum\":\"eb1a999231044ddd\"}}\n");
    assertThat(client.positions().get("db")).isEqualTo(new Pos(1, 0xeb1a999231044dddL));
  }

  @Test
  void txidGapIsPositionMismatch() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    db.commit(Map.of(1, db.fill('2')), 0); // never sent
    byte[] tx3 = db.commit(Map.of(1, db.fill('3')), 0);
    assertThatThrownBy(() -> client.writeTx("db", tx3)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.code()).isEqualTo("EPOSMISMATCH");
      assertThat(e.pos()).isEqualTo(new Pos(1, 0xeb1a999231044dddL));
    });
  }

  @Test
  void firstUploadMustBeSnapshot() throws Exception {
    TestDb db = new TestDb(512);
    db.commit(Map.of(1, db.fill('1')), 0);
    byte[] tx2 = db.commit(Map.of(1, db.fill('2')), 0);
    assertThatThrownBy(() -> client.writeTx("db", tx2)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.status()).isEqualTo(409);
      assertThat(e.pos()).isEqualTo(Pos.ZERO);
    });
    assertThat(client.positions()).isEmpty();
  }

  @Test
  void wrongPostApplyChecksumIsRejected() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    byte[] lie = TestDb.encode(LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, 512, 1, 2, 2, 0, 0xeb1a999231044dddL),
        Map.of(1, db.fill('2')), Checksum.FLAG | 1000);
    assertThatThrownBy(() -> client.writeTx("db", lie)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.code()).isEqualTo("EBADCHECKSUM");
      assertThat(e.getMessage()).isEqualTo("incorrect post-apply checksum of 80000000000003e8, expected c6e57aa102377eee");
    });
    assertThat(client.positions().get("db")).isEqualTo(new Pos(1, 0xeb1a999231044dddL));
  }

  @Test
  void pageSizeChangeIsUnprocessable() throws Exception {
    TestDb db = new TestDb(4096);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    byte[] small = TestDb.encode(LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, 512, 1, 2, 2, 0, db.checksum),
        Map.of(1, TestDb.fill(512, '2')), 0xc6e57aa102377eeeL);
    assertThatThrownBy(() -> client.writeTx("db", small)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.status()).isEqualTo(422);
      assertThat(e.code()).isEqualTo("EBADHEADER");
      assertThat(e.getMessage()).isEqualTo("page size mismatch");
    });
  }

  @Test
  void growthWithoutAllNewPagesIsRejected() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    long pre = db.checksum;
    db.commit(Map.of(3, db.fill('3')), 3, 0); // model skips page 2 on purpose
    byte[] f = TestDb.encode(LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, 512, 3, 2, 2, 0, pre), Map.of(3, db.fill('3')),
        db.checksum);
    assertThatThrownBy(() -> client.writeTx("db", f)).isInstanceOfSatisfying(ServerException.class, e -> {
      assertThat(e.code()).isEqualTo("EMISSINGPAGES");
      assertThat(e.getMessage()).isEqualTo("database extend without all pages, expected 2 new pages, found 1 pages");
    });
  }

  @Test
  void truncatedBodyIsRejectedAndNextWriteSucceeds() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    byte[] tx2 = db.commit(Map.of(1, db.fill('2'), 2, db.fill('x')), 0);
    for (int cut : new int[] {0, 50, 100, tx2.length - 17, tx2.length - 1}) {
      HttpResponse<byte[]> r = ts.raw("POST", "/db/tx?db=db", "cluster c1", java.util.Arrays.copyOf(tx2, cut));
      assertThat(r.statusCode()).as("cut at %d", cut).isEqualTo(400);
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).startsWith("{\"code\":\"EBADLTX\",\"error\":\"");
    }
    assertThat(client.positions().get("db").txid()).isEqualTo(1);
    client.writeTx("db", tx2);
    assertThat(client.positions().get("db")).isEqualTo(db.pos());
  }

  @Test
  void concurrentWritersFromSameBaseExactlyOneWins() throws Exception {
    TestDb base = new TestDb(512);
    client.writeTx("db", base.commit(Map.of(1, base.fill('1')), 0));
    int n = 8;
    List<byte[]> files = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      TestDb fork = new TestDb(512);
      fork.replace(new java.util.TreeMap<>(base.pages), base.commit, base.pos());
      files.add(fork.commit(Map.of(1, fork.fill((char) ('a' + i))), 0));
    }
    CyclicBarrier start = new CyclicBarrier(n);
    List<Callable<Boolean>> tasks = new ArrayList<>();
    for (byte[] f : files) {
      tasks.add(() -> {
        start.await();
        try {
          client.writeTx("db", f);
          return true;
        } catch (ServerException e) {
          assertThat(e.code()).isEqualTo("EPOSMISMATCH");
          return false;
        }
      });
    }
    ExecutorService pool = Executors.newFixedThreadPool(n);
    int wins = 0;
    for (Future<Boolean> f : pool.invokeAll(tasks)) if (f.get()) wins++;
    pool.shutdown();
    assertThat(wins).isEqualTo(1);
    assertThat(client.positions().get("db").txid()).isEqualTo(2);
  }

  @Test
  void uploadsOfManyPagesGoByBatches() throws Exception {
    TestDb db = new TestDb(512);
    Map<Integer, byte[]> first = new java.util.HashMap<>();
    for (int p = 1; p <= 600; p++) first.put(p, db.fill((char) ('a' + p % 20)));
    client.writeTx("db", db.commit(first, 0));
    // 512 pages, two full batches: half rewritten as they were, a quarter changed, a quarter new.
    Map<Integer, byte[]> second = new java.util.HashMap<>();
    for (int p = 301; p <= 812; p++) {
      second.put(p, p <= 556 ? db.pages.get(p) : p <= 600 ? db.fill('z') : db.fill((char) ('A' + p % 20)));
    }
    client.writeTx("db", db.commit(second, 0));
    assertThat(client.positions().get("db")).isEqualTo(db.pos());
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
    // Shrinking, with one page changed at the end.
    client.writeTx("db", db.commit(Map.of(700, db.fill('y')), 700, 0));
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
  }

  @Test
  void clustersAreSeparate() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    assertThat(ts.client("c2").positions()).isEmpty();
  }

  @Test
  void stateSurvivesRestart() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1'), 2, db.fill('2')), 0));
    client.writeTx("db", db.commit(Map.of(2, db.fill('3')), 0));
    ts.close();
    ts = new TestServer(dir);
    client = ts.client("c1");
    assertThat(client.positions().get("db")).isEqualTo(db.pos());
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
  }
}
