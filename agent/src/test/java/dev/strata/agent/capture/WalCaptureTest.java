package dev.strata.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.strata.agent.testing.Chain;
import dev.strata.agent.testing.LogCapture;
import dev.strata.agent.testing.Sqlite;
import dev.strata.replica.wal.WalReader;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.TxidRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalCaptureTest {
  @TempDir Path dir;

  Path db() {
    return dir.resolve("app.db");
  }

  Path meta() {
    return dir.resolve(".app.db-strata");
  }

  Path ltx() {
    return meta().resolve("ltx");
  }

  WalCapture open(CaptureOptions options) throws Exception {
    WalCapture c = WalCapture.open("app", db(), meta(), options);
    c.start(ReplicaHead.EMPTY);
    return c;
  }

  WalCapture open() throws Exception {
    return open(CaptureOptions.defaults());
  }

  /** Checkpoints the database completely and compares its file with the chain's last checksum and content. */
  void assertChainEqualsDatabase() throws Exception {
    Chain chain = Chain.of(ltx());
    Sqlite.checkpointTruncate(db());
    assertThat(Checksum.format(chain.postApplyChecksum())).isEqualTo(Checksum.format(Sqlite.fileChecksum(db())));
    Path restored = dir.resolve("restored.db");
    chain.applyTo(restored);
    assertThat(Sqlite.cli(restored, "PRAGMA integrity_check")).isEqualTo("ok");
    String q = "SELECT count(*), coalesce(sum(length(v)),0), coalesce(max(id),0) FROM t";
    assertThat(Sqlite.cli(restored, q)).isEqualTo(Sqlite.cli(db(), q));
  }

  /** Syncs; every commit since the first start's snapshot must have its own TXID, with no snapshot since. */
  void assertOneTxidPerCommitAndNoNewSnapshot(WalCapture c, long commits) throws Exception {
    assertThat(c.sync()).isTrue();
    assertThat(c.stats().snapshots()).as("snapshots").isEqualTo(1);
    assertThat(c.txid()).isEqualTo(1 + commits);
  }

  @Test
  void snapshotsOnFirstStartThenOneTxidPerCommitAndOneFilePerPass() throws Exception {
    Sqlite.create(db());
    try (Connection app = Sqlite.connect(db()); WalCapture c = open()) {
      Sqlite.insert(app, 3, 100);
      assertThat(Chain.files(ltx(), 9)).hasSize(1);
      assertThat(c.txid()).isEqualTo(1);
      Sqlite.insert(app, 5, 100);
      assertThat(c.sync()).isTrue();
      assertThat(c.txid()).isEqualTo(1 + 3 + 5);
      Sqlite.insert(app, 2, 5000);
      assertThat(c.sync()).isTrue();
      assertThat(c.sync()).isFalse();
      assertThat(Chain.files(ltx(), 0)).extracting(l -> l.path().getFileName().toString()).containsExactly(
          "0000000000000002-0000000000000009.ltx", "000000000000000a-000000000000000b.ltx");
      assertThat(Chain.of(ltx()).postApplyChecksum()).isEqualTo(c.postApplyChecksum());
    }
    assertChainEqualsDatabase();
  }

  @Test
  void restartContinuesWithoutSnapshotWhenTheWalProvesContinuity() throws Exception {
    Sqlite.create(db());
    try (Connection app = Sqlite.connect(db())) {
      Sqlite.exec(app, "PRAGMA wal_autocheckpoint=0");
      try (WalCapture c = open()) {
        Sqlite.insert(app, 10, 100);
        c.sync();
        Sqlite.insert(app, 4, 100); // not synced: the process "dies" here
      }
      Sqlite.insert(app, 6, 100);
      try (LogCapture logs = new LogCapture(WalCapture.class); WalCapture c = open()) {
        assertThat(c.txid()).isEqualTo(1 + 10 + 4 + 6);
        assertThat(logs.messages()).noneMatch(m -> m.contains("snapshot"));
      }
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(1);
    assertChainEqualsDatabase();
  }

  @Test
  void ownCheckpointRestartsTheWalWithoutASnapshot() throws Exception {
    Sqlite.create(db());
    CaptureOptions options = CaptureOptions.defaults().withMinCheckpointPages(50);
    try (Connection app = Sqlite.connect(db()); WalCapture c = open(options)) {
      Sqlite.exec(app, "PRAGMA wal_autocheckpoint=0");
      int seqBefore = -1;
      for (int round = 0; round < 5; round++) {
        Sqlite.insert(app, 80, 200);
        if (seqBefore < 0) seqBefore = walHeader().checkpointSeq();
        c.sync();
        var cp = c.checkpointIfDue();
        assertThat(cp).isNotNull();
        assertThat(cp.complete()).as("checkpoint %s", cp).isTrue();
      }
      Sqlite.insert(app, 3, 200);
      c.sync();
      assertThat(walHeader().checkpointSeq()).isGreaterThanOrEqualTo(seqBefore + 4);
      assertThat(c.stats().snapshots()).isEqualTo(1);
      assertThat(c.txid()).isEqualTo(1 + 5 * 80 + 3);
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(1);
    assertChainEqualsDatabase();
  }

  @Test
  void restartsByDifferentConnectionsNeedNoSnapshot() throws Exception {
    // SQLite writes each connection's own restart count into the WAL header, so when two connections take turns
    // restarting the WAL the header's checkpoint sequence repeats or goes back; only salt-1 always grows by one.
    Sqlite.create(db());
    CaptureOptions options = CaptureOptions.defaults().withMinCheckpointPages(10);
    try (Connection first = Sqlite.connect(db()); Connection second = Sqlite.connect(db());
        WalCapture c = open(options)) {
      Sqlite.exec(first, "PRAGMA wal_autocheckpoint=0");
      Sqlite.exec(second, "PRAGMA wal_autocheckpoint=0");
      int[] seqs = new int[6];
      for (int round = 0; round < seqs.length; round++) {
        Connection app = round % 3 == 2 ? second : first;
        Sqlite.insert(app, 20, 200);
        assertThat(c.capture()).isTrue();
        assertThat(c.checkpointIfDue().complete()).isTrue();
        Sqlite.insert(app, 1, 10); // restarts the WAL
        seqs[round] = walHeader().checkpointSeq();
        assertThat(c.capture()).isTrue();
      }
      assertThat(seqs).as("checkpoint sequences written by two connections").containsExactly(1, 2, 1, 3, 4, 2);
      assertOneTxidPerCommitAndNoNewSnapshot(c, 6 * 21);
    }
    assertChainEqualsDatabase();
  }

  @Test
  void anApplicationsTruncateCheckpointWhileRunningNeedsNoSnapshot() throws Exception {
    // After capture's own checkpoint its read transaction holds read lock 0, which lets an application's TRUNCATE
    // checkpoint through. A connection that never restarted the WAL itself then writes a header with new random
    // salts.
    Sqlite.create(db());
    CaptureOptions options = CaptureOptions.defaults().withMinCheckpointPages(10);
    try (Connection first = Sqlite.connect(db()); WalCapture c = open(options)) {
      Sqlite.exec(first, "PRAGMA wal_autocheckpoint=0");
      for (int round = 0; round < 3; round++) {
        Sqlite.insert(first, 20, 200);
        assertThat(c.capture()).isTrue();
        assertThat(c.checkpointIfDue().complete()).isTrue();
        try (Connection other = Sqlite.connect(db())) {
          Sqlite.exec(first, "PRAGMA wal_checkpoint(TRUNCATE)");
          assertThat(Files.size(dir.resolve("app.db-wal"))).isZero();
          c.capture();
          Sqlite.insert(other, 1, 10);
        }
        assertThat(c.capture()).isTrue();
      }
      assertOneTxidPerCommitAndNoNewSnapshot(c, 3 * 21);
    }
    assertChainEqualsDatabase();
  }

  @Test
  void afterItsCheckpointTheReadTransactionLeavesReadLockZeroOnceTheApplicationCommits() throws Exception {
    // On read lock 0 the read transaction stops every checkpoint, and an application's autocheckpoint would sort
    // the whole WAL on each commit only to give up; on a read mark the application copies the frames below it.
    Sqlite.create(db());
    CaptureOptions options = CaptureOptions.defaults().withMinCheckpointPages(10);
    try (Connection app = Sqlite.connect(db()); WalCapture c = open(options)) {
      Sqlite.exec(app, "PRAGMA wal_autocheckpoint=0");
      Sqlite.insert(app, 20, 200);
      assertThat(c.capture()).isTrue();
      assertThat(c.checkpointIfDue().complete()).isTrue();
      Sqlite.insert(app, 1, 10); // restarts the WAL
      assertThat(c.capture()).isTrue(); // sees the restart: moves to a read mark at that commit
      int[] mark = passive(app);
      Sqlite.insert(app, 20, 200);
      int[] later = passive(app);
      assertThat(mark[2]).as("frames below the read mark").isPositive().isEqualTo(mark[1]);
      assertThat(later[2]).as("frames copied past the read mark").isEqualTo(mark[2]);
      assertThat(later[1]).isGreaterThan(mark[1]);
      assertOneTxidPerCommitAndNoNewSnapshot(c, 41);
    }
    assertChainEqualsDatabase();
  }

  @Test
  void theWatcherLeavesReadLockZeroOnlyWhileCaptureDoesNotHoldItStill() throws Exception {
    Sqlite.create(db());
    try (Connection app = Sqlite.connect(db()); DatabaseLocks locks = new DatabaseLocks(db(), 1000);
        java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(db(),
            java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
      Sqlite.exec(app, "PRAGMA wal_autocheckpoint=0");
      Sqlite.insert(app, 20, 200);
      locks.beginRead();
      assertThat(locks.checkpoint(() -> 0, file).complete()).isTrue(); // read lock 0 from here
      try (DatabaseLocks.Hold still = locks.holdStill()) {
        Sqlite.insert(app, 1, 10); // restarts the WAL
        Thread.sleep(100); // the watcher polls every half millisecond
        assertThat(passive(app)[2]).as("frames copied while read lock 0 is held").isZero();
      }
      long until = System.nanoTime() + 5_000_000_000L;
      while (passive(app)[2] == 0 && System.nanoTime() < until) Thread.sleep(5);
      assertThat(passive(app)[2]).as("frames copied below the watcher's read mark").isPositive();
      // the watcher read the WAL index without closing a descriptor of it, which would drop SQLite's locks on it
      assertThat(shmDmsLocks()).as("SQLite's DMS lock on the WAL index, held by this process").isPositive();
    }
  }

  /**
   * How many POSIX locks this process holds on byte 128 of {@code app.db-shm} (from /proc/locks): SQLite's DMS lock,
   * which every process with a connection holds while it uses the WAL index, and never takes again.
   */
  private long shmDmsLocks() throws Exception {
    Object inode = Files.getAttribute(dir.resolve("app.db-shm"), "unix:ino");
    String pid = Long.toString(ProcessHandle.current().pid());
    try (var lines = Files.lines(Path.of("/proc/locks"))) {
      return lines.map(l -> l.trim().split("\\s+"))
          .filter(f -> f.length >= 8 && f[1].equals("POSIX") && f[4].equals(pid) && f[5].endsWith(":" + inode))
          .filter(f -> Long.parseLong(f[6]) <= 128 && (f[7].equals("EOF") || Long.parseLong(f[7]) >= 128))
          .count();
    }
  }

  /** An application's PASSIVE checkpoint: {busy, WAL frames, frames checkpointed}. */
  private static int[] passive(Connection app) throws Exception {
    try (var s = app.createStatement(); var rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      rs.next();
      return new int[] {rs.getInt(1), rs.getInt(2), rs.getInt(3)};
    }
  }

  @Test
  void capturesAcrossSeveralWalRestartsBecomeOneLevel0File() throws Exception {
    Sqlite.cli(db(), "PRAGMA auto_vacuum=FULL; PRAGMA journal_mode=WAL;"
        + " CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    CaptureOptions options = CaptureOptions.defaults().withMinCheckpointPages(20);
    try (Connection app = Sqlite.connect(db()); WalCapture c = open(options)) {
      Sqlite.exec(app, "PRAGMA wal_autocheckpoint=0");
      int restarts = 0;
      for (int round = 0; round < 6; round++) {
        Sqlite.insert(app, 25, 2000);
        if (round % 2 == 1) Sqlite.exec(app, "DELETE FROM t WHERE id % 3 = 0"); // shrinks the database
        assertThat(c.capture()).isTrue();
        int seq = walHeader().checkpointSeq();
        assertThat(c.checkpointIfDue().complete()).isTrue();
        Sqlite.insert(app, 1, 10); // the first write after a complete checkpoint restarts the WAL
        if (walHeader().checkpointSeq() != seq) restarts++;
      }
      assertThat(restarts).isEqualTo(6);
      long before = Chain.files(ltx(), 0).size();
      assertThat(c.sync()).isTrue();
      assertThat(Chain.files(ltx(), 0)).hasSize((int) before + 1); // everything staged became one file
      assertThat(c.stats().snapshots()).isEqualTo(1);
      assertThat(c.txid()).isEqualTo(1 + 6 * 26 + 3);
    }
    assertChainEqualsDatabase();
  }

  @Test
  void theWritersOwnAutocheckpointWhileRunningNeedsNoSnapshot() throws Exception {
    Sqlite.create(db());
    CaptureOptions options = CaptureOptions.defaults().withMinCheckpointPages(30);
    try (Connection app = Sqlite.connect(db()); WalCapture c = open(options)) {
      Sqlite.exec(app, "PRAGMA wal_autocheckpoint=10");
      for (int round = 0; round < 20; round++) {
        Sqlite.insert(app, 7, 300);
        c.sync();
        if (round % 3 == 0) c.checkpointIfDue();
      }
      assertThat(c.stats().snapshots()).isEqualTo(1);
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(1);
    assertChainEqualsDatabase();
  }

  @Test
  void truncateCheckpointWhileStoppedWithNewWritesTakesASnapshotAndSaysWhy() throws Exception {
    Sqlite.create(db());
    try (WalCapture c = open()) {
      try (Connection app = Sqlite.connect(db())) {
        Sqlite.insert(app, 10, 100);
        c.sync();
      }
    }
    Sqlite.cli(db(), "INSERT INTO t(v) VALUES ('while stopped'); PRAGMA wal_checkpoint(TRUNCATE);");
    try (LogCapture logs = new LogCapture(WalCapture.class); WalCapture c = open()) {
      assertThat(c.txid()).isEqualTo(1 + 10 + 1);
      assertThat(logs.messages()).anyMatch(m -> m.contains("snapshot at TXID 000000000000000c")
          && m.contains("no longer matches TXID 000000000000000b"));
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(2);
    assertChainEqualsDatabase();
  }

  @Test
  void truncateCheckpointWhileStoppedWithoutWritesIsVerifiedByReading() throws Exception {
    Sqlite.create(db());
    try (WalCapture c = open(); Connection app = Sqlite.connect(db())) {
      Sqlite.insert(app, 10, 100);
      c.sync();
    }
    Sqlite.cli(db(), "PRAGMA wal_checkpoint(TRUNCATE);");
    try (LogCapture logs = new LogCapture(WalCapture.class); WalCapture c = open()) {
      assertThat(c.txid()).isEqualTo(11);
      assertThat(logs.messages()).anyMatch(m -> m.contains("still matches TXID 000000000000000b"));
      try (Connection app = Sqlite.connect(db())) {
        Sqlite.insert(app, 2, 100);
        c.sync();
      }
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(1);
    assertChainEqualsDatabase();
  }

  @Test
  void continuingAReplicasChainSeesTheFirstWalAsAContinuation() throws Exception {
    Sqlite.create(db());
    long txid, checksum;
    try (WalCapture c = open(); Connection app = Sqlite.connect(db())) {
      Sqlite.insert(app, 4, 100);
      c.sync();
      txid = c.txid();
      checksum = c.postApplyChecksum();
    }
    Sqlite.cli(db(), "PRAGMA wal_checkpoint(TRUNCATE);"); // the last connection closes: no WAL is left
    assertThat(Files.exists(dir.resolve("app.db-wal"))).isFalse();
    Path lost = dir.resolve("lost-meta");
    Files.move(meta(), lost); // no local state, as on a new host after a restore
    try (LogCapture logs = new LogCapture(WalCapture.class);
        WalCapture c = WalCapture.open("app", db(), meta(), CaptureOptions.defaults())) {
      c.start(new ReplicaHead(txid, checksum));
      try (Connection app = Sqlite.connect(db())) {
        Sqlite.insert(app, 3, 100); // the first commit creates the WAL
        assertThat(c.sync()).isTrue();
      }
      assertThat(c.txid()).isEqualTo(txid + 3);
      assertThat(c.stats().snapshots()).isZero();
      assertThat(logs.messages()).noneMatch(m -> m.contains("snapshot at"));
    }
  }

  @Test
  void databaseDeletedAndRecreatedTakesASnapshot() throws Exception {
    Sqlite.create(db());
    try (WalCapture c = open()) {
      try (Connection app = Sqlite.connect(db())) {
        Sqlite.insert(app, 10, 100);
        c.sync();
      }
      for (String s : new String[] {"", "-wal", "-shm"}) Files.deleteIfExists(dir.resolve("app.db" + s));
      assertThat(c.sync()).isFalse(); // missing: wait
      Sqlite.cli(db(), "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, w BLOB);"
          + " INSERT INTO t(v) VALUES ('new');");
      try (LogCapture logs = new LogCapture(WalCapture.class)) {
        assertThat(c.sync()).isTrue();
        assertThat(logs.messages()).anyMatch(m -> m.contains("database file was replaced"));
      }
      try (Connection app = Sqlite.connect(db())) {
        Sqlite.insert(app, 3, 100);
        c.sync();
      }
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(2);
    assertChainEqualsDatabase();
  }

  @Test
  void aLostChecksumTableIsRebuiltByReadingTheDatabase() throws Exception {
    Sqlite.create(db());
    try (WalCapture c = open(); Connection app = Sqlite.connect(db())) {
      Sqlite.insert(app, 10, 100);
      c.sync();
    }
    Files.delete(meta().resolve("checksums"));
    try (WalCapture c = open(); Connection app = Sqlite.connect(db())) {
      Sqlite.insert(app, 3, 100);
      c.sync();
      assertThat(c.stats().snapshots()).isZero();
    }
    assertThat(Chain.files(ltx(), 9)).hasSize(1);
    assertChainEqualsDatabase();
  }

  @Test
  void shrinkingAndGrowingKeepTheChecksumsExact() throws Exception {
    Sqlite.cli(db(), "PRAGMA auto_vacuum=FULL; PRAGMA journal_mode=WAL;"
        + " CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    try (Connection app = Sqlite.connect(db()); WalCapture c = open()) {
      Sqlite.insert(app, 50, 3000);
      c.sync();
      Sqlite.exec(app, "DELETE FROM t WHERE id > 5"); // auto_vacuum shrinks the database in this commit
      Sqlite.insert(app, 4, 3000); // and it grows again in the same pass
      c.sync();
      Sqlite.exec(app, "DELETE FROM t");
      c.sync();
      Sqlite.exec(app, "VACUUM");
      Sqlite.insert(app, 20, 2000);
      c.sync();
      assertThat(c.stats().snapshots()).isEqualTo(1);
    }
    assertChainEqualsDatabase();
  }

  @Test
  void refusesADatabaseNotInWalModeUnlessToldToSwitchIt() throws Exception {
    Sqlite.cli(db(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    assertThatThrownBy(() -> WalCapture.open("app", db(), meta(), CaptureOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not in WAL mode");
    try (WalCapture c = open(CaptureOptions.defaults().withSwitchToWal(true))) {
      assertThat(c.txid()).isEqualTo(1);
    }
    assertThat(Sqlite.cli(db(), "PRAGMA journal_mode")).isEqualTo("wal");
  }

  @Test
  void aFifoNamedLikeALocalFileIsRemovedNotOpened() throws Exception {
    Sqlite.create(db());
    try (WalCapture c = open()) {
      c.sync();
    }
    Path fifo = Files.createDirectories(ltx().resolve("0")).resolve(new TxidRange(2, 2).fileName());
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    try (LogCapture logs = new LogCapture(LocalStore.class)) {
      assertTimeoutPreemptively(Duration.ofSeconds(10), () -> open().close()); // opening it would never return
      assertThat(logs.messages()).containsExactly("local file " + fifo + " is not a regular file; removing it");
    }
    assertThat(fifo).doesNotExist();
  }

  @Test
  void refusesMissingAndNonSqliteFilesAndASecondProcess() throws Exception {
    assertThatThrownBy(() -> WalCapture.open("app", db(), meta(), CaptureOptions.defaults()))
        .hasMessageContaining("does not exist");
    Files.writeString(db(), "hello, not a database".repeat(10));
    assertThatThrownBy(() -> WalCapture.open("app", db(), meta(), CaptureOptions.defaults()))
        .hasMessageContaining("is not a SQLite database");
    Files.delete(db());
    Sqlite.create(db());
    try (WalCapture c = open()) {
      assertThatThrownBy(() -> WalCapture.open("app", db(), meta(), CaptureOptions.defaults()))
          .hasMessageContaining("another strata process");
    }
  }

  @Test
  void idlePassesDoNothing() throws Exception {
    Sqlite.create(db());
    try (WalCapture c = open(CaptureOptions.defaults().withCheckpointInterval(Duration.ZERO))) {
      try (Connection app = Sqlite.connect(db())) {
        Sqlite.insert(app, 2, 10);
      }
      c.sync();
      c.checkpointIfDue();
      long files = Files.list(ltx().resolve("0")).count();
      for (int i = 0; i < 5; i++) {
        assertThat(c.sync()).isFalse();
        assertThat(c.checkpointIfDue()).isNull();
      }
      assertThat(Files.list(ltx().resolve("0")).count()).isEqualTo(files);
    }
  }

  private dev.strata.replica.wal.WalHeader walHeader() throws Exception {
    try (WalReader r = WalReader.open(dir.resolve("app.db-wal"))) {
      return r.readHeader();
    }
  }
}
