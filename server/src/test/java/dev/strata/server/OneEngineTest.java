package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.ForwardingReplicaClient;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server runs on the replica module's engine, as the agent does: one level model with one set of defaults,
 * compaction that resumes broken reads and checks what it wrote, retention by the time of the transactions, and
 * one set of restore points that info, restore by TXID and restore by timestamp all agree on.
 */
class OneEngineTest {
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
  void levelZeroIsKeptFiveMinutesAfterItsFlushAsInTheAgent() throws Exception {
    assertThat(ServerConfig.defaults(dir).levels()).isEqualTo(LevelConfig.defaults());
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    for (int i = 0; i < 3; i++) client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('a' + i))), ts.clock.millis()));
    ts.server.scheduler().runLevel(1);
    ts.clock.advance(Duration.ofMinutes(6));
    client.writeTx("db", db.commit(Map.of(1, db.fill('z')), ts.clock.millis()));
    ts.server.scheduler().runLevel(1);
    // Staging forgot the history before TXID 3: received more than 5 minutes ago and in storage since.
    assertThat(ts.localTxids("c1", "db")).containsExactly(3L, 4L);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
  }

  /** Storage whose every file read breaks once, after its first 200 bytes, as a reset connection would. */
  private static final class ResettingStorage extends ForwardingReplicaClient {
    final Set<String> broken;

    ResettingStorage(ReplicaClient delegate, Set<String> broken) {
      super(delegate);
      this.broken = broken;
    }

    @Override
    public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
      InputStream in = super.openFile(level, range, offset);
      if (offset != 0 || !broken.add(location() + level + range)) return in;
      return new FilterInputStream(in) {
        long read;

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          if (read >= 200) throw new IOException("connection reset");
          int n = super.read(b, off, (int) Math.min(len, 200 - read));
          if (n > 0) read += n;
          return n;
        }
      };
    }

    @Override
    protected ReplicaClient wrap(ReplicaClient child) {
      return new ResettingStorage(child, broken);
    }
  }

  @Test
  void compactionResumesABrokenReadAndChecksWhatItWrote() throws Exception {
    Set<String> broken = ConcurrentHashMap.newKeySet();
    ReplicaClient storage = new ResettingStorage(new FileReplicaClient(dir.resolve("objects")), broken);
    ts = new TestServer(dir.resolve("data"), new FakeClock(Instant.now()), c -> c, storage);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    List<byte[]> states = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Map<Integer, byte[]> pages = Map.of(1, TestDb.fill(512, (char) ('a' + i)), 2 + i, TestDb.fill(512, 'x'));
      client.writeTx("db", db.commit(pages, 2 + i, ts.clock.millis()));
      states.add(db.bytes());
      ts.server.scheduler().runLevel(1);
    }
    broken.clear(); // the flushes wrote their files; from here on every first read of a file breaks
    assertThat(ts.server.scheduler().runLevel(2)).isEqualTo(1);
    assertThat(ts.server.scheduler().runLevel(3)).isEqualTo(1);
    assertThat(ts.server.scheduler().runLevel(Level.SNAPSHOT)).isEqualTo(1);
    assertThat(broken).isNotEmpty();
    assertThat(TestServer.maxes(storage().listFiles(3))).containsExactly(4L);
    assertThat(TestServer.maxes(storage().listFiles(9))).containsExactly(4L);
    // A restore point that only storage holds (staging forgot it) is rebuilt through broken reads too.
    ts.clock.advance(Duration.ofMinutes(10));
    client.writeTx("db", db.commit(Map.of(1, TestDb.fill(512, 'z')), 5, ts.clock.millis()));
    ts.server.scheduler().runLevel(1);
    assertThat(ts.localTxids("c1", "db")).doesNotContain(2L);
    broken.clear();
    client.restore("db", 2L, null);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(states.get(1));
  }

  @Test
  void retentionAgesFilesByTheTimeOfTheirTransactions() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    // A LiteFS node whose transactions are three hours old when they arrive (a backlog sent after an outage).
    long then = ts.clock.millis() - Duration.ofHours(3).toMillis();
    for (int i = 0; i < 3; i++) {
      client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('a' + i))), then + i * 1000L));
      ts.server.scheduler().runLevel(1);
    }
    ts.server.scheduler().runLevel(2);
    // Their restore points in level 1 left its one-hour window long ago; level 2 holds them.
    assertThat(storage().listFiles(1)).isEmpty();
    assertThat(TestServer.maxes(storage().listFiles(2))).containsExactly(3L);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
  }

  @Test
  void everyRestorePointIsListedAndReachableByTimestamp() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    List<byte[]> states = new ArrayList<>();
    states.add(null);
    for (int i = 1; i <= 12; i++) {
      ts.clock.advance(Duration.ofSeconds(7));
      client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('a' + i))), ts.clock.millis()));
      states.add(db.bytes());
      if (i % 3 == 0) ts.server.scheduler().runLevel(1); // level 1 gets 1-3, 4-6, 7-9, 10-12
      if (i == 6) ts.server.scheduler().runLevel(2); // level 2 gets 1-6
    }
    ts.clock.advance(Duration.ofMinutes(10)); // staging keeps only what storage does not hold
    client.writeTx("db", db.commit(Map.of(1, db.fill('z')), ts.clock.millis()));
    states.add(db.bytes());
    ts.server.scheduler().runLevel(1);
    assertThat(ts.localTxids("c1", "db")).doesNotContain(1L, 2L, 4L);

    List<ServerClient.RestorePoint> all = client.info("db", true).restorablePaths();
    List<Long> listed = all.stream().map(ServerClient.RestorePoint::maxTxid).toList();
    assertThat(listed).isSorted().contains(3L, 6L, 9L, 12L, 13L);
    for (long txid = 1; txid <= 13; txid++) {
      boolean accepted;
      try {
        client.restoreCheck("db", txid, null);
        accepted = true;
      } catch (ServerException e) {
        assertThat(e.code()).isEqualTo("ENOTXID");
        accepted = false;
      }
      assertThat(accepted).as("TXID %d accepted by restore == listed by info", txid).isEqualTo(listed.contains(txid));
    }
    for (ServerClient.RestorePoint p : all) {
      Instant at = Instant.parse(p.maxTimestamp());
      assertThat(client.restoreCheck("db", null, at).txid()).isEqualTo(p.maxTxid());
    }
    List<ServerClient.RestorePoint> summary = client.info("db", false).restorablePaths();
    assertThat(summary).extracting(ServerClient.RestorePoint::maxTxid).containsExactly(listed.getFirst(),
        listed.getLast());
    // Each listed point restores to the state it names.
    long current = 13;
    for (long txid : List.of(3L, 6L, 12L)) {
      current = client.restore("db", txid, null);
      assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(states.get((int) txid));
    }
    assertThat(current).isEqualTo(16);
  }

  @Test
  void anIdleDatabaseStillExpiresItsOldFilesAndKeepsItsNewestState() throws Exception {
    ts = new TestServer(dir);
    ServerClient client = ts.client("c1");
    TestDb db = new TestDb(512);
    for (int i = 0; i < 3; i++) {
      client.writeTx("db", db.commit(Map.of(1, db.fill((char) ('a' + i))), ts.clock.millis()));
      ts.compactAll();
      ts.clock.advance(Duration.ofHours(2));
    }
    // No upload for 40 days: only the daily snapshot job runs, and it applies retention to every level.
    ts.clock.advance(Duration.ofDays(40));
    ts.server.scheduler().runLevel(Level.SNAPSHOT);
    for (int level = 1; level <= 3; level++) assertThat(storage().listFiles(level)).as("level %d", level).isEmpty();
    assertThat(TestServer.maxes(storage().listFiles(Level.SNAPSHOT))).containsExactly(3L);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(db.bytes());
    assertThat(client.restoreCheck("db", 3L, null).txid()).isEqualTo(3);
  }
}
