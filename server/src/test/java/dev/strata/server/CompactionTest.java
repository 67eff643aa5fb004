package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.Pos;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.server.client.ServerClient;
import dev.strata.server.compaction.CompactionJobs;
import dev.strata.server.store.DbRow;
import dev.strata.server.store.Lease;
import dev.strata.server.store.Rows;
import dev.strata.server.store.SpooledLtx;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flushes, level compactions, snapshots and retention, driven by hand with a moved clock. */
class CompactionTest {
  @TempDir Path dir;
  TestServer ts;

  @AfterEach
  void stop() throws Exception {
    if (ts != null) ts.close();
  }

  private ReplicaClient storage() {
    return ts.storage("c1", "db");
  }

  @Test
  void snapshotLevelMatchesGolden() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    ts.compactAll();
    assertThat(storage().listFiles(9)).extracting(LtxFileMeta::fileName)
        .containsExactly("0000000000000001-0000000000000001.ltx");
    assertThat(client.writeTx("db", db.commit(Map.of(2, db.fill('2')), 2, 0))).isEqualTo(1);
    ts.compactAll();
    // litefs-backup's golden file has timestamp 0: its older snapshot is decades past the 30-day retention.
    List<LtxFileMeta> snaps = storage().listFiles(9);
    assertThat(snaps).extracting(LtxFileMeta::fileName).containsExactly("0000000000000001-0000000000000002.ltx");
    LtxFileMeta l9 = snaps.getLast();
    assertThat(l9.pageSize()).isEqualTo(512);
    assertThat(l9.preApplyChecksum()).isZero();
    assertThat(l9.postApplyChecksum()).isEqualTo(0xad2dffe333333333L);
    assertThat(l9.timestamp()).isZero();
    try (InputStream in = storage().openFile(9, l9.range(), 0)) {
      assertThat(Checksum.format(LtxDecoder.verify(in).trailer().fileChecksum())).isEqualTo("b140bf35427d1cff");
    }
    DbRow row = ts.db("c1", "db");
    assertThat(row.hwm()).isEqualTo(2);
    // No new data: nothing is written and the request is gone.
    ts.compactAll();
    assertThat(storage().listFiles(9)).hasSize(1);
    assertThat(ts.requests(9)).isEmpty();
  }

  private long storedThrough(long dbId) throws java.io.IOException {
    return ts.server.store().read(c -> Rows.storedThrough(c, dbId));
  }

  @Test
  void storedThroughIsTheNewestCataloguedFileAtLevelOneOrAbove() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    long id = ts.db("c1", "db").id();
    assertThat(storedThrough(id)).as("nothing flushed yet").isZero();
    ts.compactAll(); // levels 1-3 and a snapshot, all ending at TXID 1
    for (int round = 0; round < 3; round++) {
      for (int t = 0; t < 2; t++) client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('a' + round + t))), 0));
      ts.server.scheduler().runLevel(1);
      long newest = 0;
      for (int level = 1; level <= ReplicaClient.MAX_LEVEL; level++) {
        for (LtxFileMeta f : storage().listFiles(level)) newest = Math.max(newest, f.maxTxid());
      }
      assertThat(newest).isEqualTo(db.txid);
      assertThat(storedThrough(id)).isEqualTo(newest);
    }
    // A snapshot newer than every level (after level 1's files expired, say) counts too.
    ts.clock.advance(Duration.ofDays(2));
    ts.compactAll();
    assertThat(storedThrough(id)).isEqualTo(db.txid);
  }

  @Test
  void aFlushBatchLeavesTheDatabaseLeasedElsewhereAndFlushesTheOthers() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    int count = CompactionJobs.FLUSH_BATCH + 4; // two batches
    for (int i = 0; i < count; i++) {
      TestDb db = new TestDb(512);
      client.writeTx("db" + i, db.commit(Map.of(1, db.fill((char) ('a' + i))), 0));
    }
    // Another instance holds the lease of db3: its flush waits, the rest of its batch goes on.
    Lease foreign = ts.server.store().write(c -> Lease.acquire(c, "c1", "db3", "elsewhere/1/x", ts.clock.millis(),
        Duration.ofHours(1).toMillis()));
    assertThat(ts.server.scheduler().runLevel(1)).isEqualTo(count - 1);
    for (int i = 0; i < count; i++) {
      assertThat(ts.db("c1", "db" + i).hwm()).as("db%d", i).isEqualTo(i == 3 ? 0 : 1);
      assertThat(ts.storage("c1", "db" + i).listFiles(1)).as("db%d", i).hasSize(i == 3 ? 0 : 1);
    }
    assertThat(ts.requests(1)).extracting(r -> r.db().name()).containsExactly("db3");
    // Released, it is flushed at the next tick, alone.
    ts.server.store().write(c -> {
      foreign.release(c);
      return null;
    });
    assertThat(ts.server.scheduler().runLevel(1)).isEqualTo(1);
    assertThat(ts.db("c1", "db3").hwm()).isEqualTo(1);
    assertThat(ts.requests(1)).isEmpty();
  }

  @Test
  void levelsChainAndRebuildEveryState() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(1024);
    Random rnd = new Random(3);
    Map<Long, byte[]> states = new java.util.HashMap<>();
    for (int round = 0; round < 6; round++) {
      for (int i = 0; i < 4; i++) {
        Map<Integer, byte[]> changes = new java.util.TreeMap<>();
        int commit = Math.max(1, db.commit + rnd.nextInt(5) - 1);
        for (int p = 1; p <= commit; p++) {
          if (p > db.commit || rnd.nextInt(3) == 0) {
            byte[] b = new byte[1024];
            rnd.nextBytes(b);
            changes.put(p, b);
          }
        }
        client.writeTx("db", db.commit(changes, commit, ts.clock.millis()));
        states.put(db.txid, db.bytes());
      }
      ts.server.scheduler().runLevel(1);
      if (round % 2 == 1) ts.server.scheduler().runLevel(2);
      if (round % 3 == 2) ts.server.scheduler().runLevel(3);
      ts.clock.advance(Duration.ofMinutes(20));
    }
    ts.compactAll();
    for (int level : new int[] {1, 2, 3}) {
      long prev = 0;
      for (LtxFileMeta f : storage().listFiles(level)) {
        if (level > 1 || prev != 0) assertThat(f.minTxid()).isEqualTo(prev + 1);
        prev = f.maxTxid();
      }
      assertThat(prev).as("level %d reaches the end", level).isEqualTo(db.txid);
    }
    DbRow row = ts.db("c1", "db");
    // Every level-1 and level-2 boundary still in storage rebuilds the exact state it had.
    for (LtxFileMeta f : storage().listFiles(2)) {
      try (SpooledLtx s = ts.server.service().snapshotAt(row, f.maxTxid())) {
        assertThat(sqlite(s)).as("state at %d", f.maxTxid()).isEqualTo(states.get(f.maxTxid()));
      }
    }
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
  }

  private static byte[] sqlite(SpooledLtx s) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (SpooledLtx.PageCursor c = s.pages()) {
      byte[] buf = new byte[s.info().header().pageSize()];
      while (c.next(buf) != 0) out.write(buf);
    }
    return out.toByteArray();
  }

  @Test
  void retentionTrimsLowerLevelsAndStaging() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    for (int i = 0; i < 3; i++) {
      client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('a' + i))), ts.clock.millis()));
      ts.server.scheduler().runLevel(1);
    }
    assertThat(TestServer.maxes(storage().listFiles(1))).containsExactly(1L, 2L, 3L);
    ts.server.scheduler().runLevel(2);
    // Level 1 files are younger than an hour: kept.
    assertThat(TestServer.maxes(storage().listFiles(1))).containsExactly(1L, 2L, 3L);
    ts.clock.advance(Duration.ofHours(2));
    client.writeTx("db", db.commit(Map.of(1, db.fill('z')), ts.clock.millis()));
    ts.server.scheduler().runLevel(1);
    ts.server.scheduler().runLevel(2);
    // Everything compacted into level 2 whose transactions are older than an hour goes.
    assertThat(TestServer.maxes(storage().listFiles(1))).containsExactly(4L);
    assertThat(TestServer.maxes(storage().listFiles(2))).containsExactly(3L, 4L);
    // Level 0 forgot the history before TXID 3 (received more than 5 minutes before the last flush).
    assertThat(ts.localTxids("c1", "db")).containsExactly(3L, 4L);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
  }

  @Test
  void snapshotRetentionKeepsTheNewest() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    ts.compactAll();
    ts.clock.advance(Duration.ofDays(40));
    ts.compactAll(); // nothing new: the lone old snapshot stays
    assertThat(storage().listFiles(9)).hasSize(1);
    client.writeTx("db", db.commit(Map.of(1, db.fill('2')), 0));
    ts.compactAll();
    assertThat(TestServer.maxes(storage().listFiles(9))).containsExactly(2L);
  }

  @Test
  void uploadsDoNotWaitForStorage() throws Exception {
    GatedReplicaClient gated = new GatedReplicaClient(new FileReplicaClient(dir.resolve("objects")));
    ts = new TestServer(dir.resolve("data"), new FakeClock(java.time.Instant.now()), c -> c, gated);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    CompletableFuture<Integer> flush = CompletableFuture.supplyAsync(() -> ts.server.scheduler().runLevel(1));
    assertThat(gated.gate().entered.await(10, TimeUnit.SECONDS)).isTrue();
    // The flush is stuck in storage; uploads, reads and restores go on.
    for (int i = 0; i < 5; i++) client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('2' + i))), 0));
    assertThat(client.positions().get("db")).isEqualTo(db.pos());
    assertThat(client.restore("db", 1L, null)).isEqualTo(7);
    gated.release();
    assertThat(flush.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    // The flush took only what was committed when it started; the next one takes the rest.
    assertThat(TestServer.maxes(storage().listFiles(1))).containsExactly(1L);
    assertThat(ts.requests(1)).hasSize(1);
    ts.server.scheduler().runLevel(1);
    assertThat(TestServer.maxes(storage().listFiles(1))).containsExactly(1L, 7L);
    try (InputStream in = storage().openFile(1, storage().listFiles(1).getLast().range(), 0)) {
      LtxFileInfo info = LtxDecoder.verify(in);
      assertThat(info.header().minTxid()).isEqualTo(2);
      assertThat(info.trailer().postApplyChecksum()).isEqualTo(0xeb1a999231044dddL);
    }
    assertThat(client.positions().get("db")).isEqualTo(new Pos(7, 0xeb1a999231044dddL));
  }

  @Test
  void flushUploadedButNotRecordedIsRecoveredOnTheNextRun() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
    // As if the server died after uploading the level-1 file and before recording it.
    byte[] l1 = client.snapshotBytes("db", null);
    LtxFileInfo info = LtxDecoder.verify(new java.io.ByteArrayInputStream(l1));
    storage().writeFile(1, info, new java.io.ByteArrayInputStream(l1), l1.length);
    assertThat(ts.db("c1", "db").hwm()).isZero();
    ts.server.scheduler().runLevel(1);
    assertThat(TestServer.maxes(storage().listFiles(1))).containsExactly(1L);
    assertThat(ts.db("c1", "db").hwm()).isEqualTo(1);
    assertThat(ts.requests(2)).hasSize(1);
  }
}
