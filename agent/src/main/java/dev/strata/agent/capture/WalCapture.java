package dev.strata.agent.capture;

import dev.strata.replica.wal.WalException;
import dev.strata.replica.wal.WalHeader;
import dev.strata.replica.wal.WalReader;
import dev.strata.replica.wal.WalScan;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures every commit of one SQLite database from its WAL into LTX files in a {@link LocalStore}: one TXID per
 * SQLite commit, one level-0 file per {@link #sync()} pass, and a level-9 snapshot whenever continuity cannot be
 * proven.
 *
 * <h2>Reading the WAL</h2>
 * {@link #capture()} reads the frames after the last captured commit frame, verifying salts and cumulative
 * checksums frame by frame, and stops at the last commit frame whose checksums hold ({@link WalReader#scan}). It
 * copies the last version of each page written (and the pages a shrink-then-grow brought back) into a
 * {@link Staging} file, so that the WAL may be checkpointed and restarted right after; it may run many times
 * between two files. {@link #flush()} turns what is staged into one level-0 file: the pages, the database size
 * after the last commit, and pre- and post-apply checksums from the {@link PageChecksumTable}. {@link #sync()}
 * does both, once per sync interval.
 *
 * <h2>Proving continuity</h2>
 * A pass continues the recorded position when the WAL is still the same generation and the recorded frame still
 * carries the recorded cumulative checksum (so every frame up to it is the one captured). SQLite restarts the WAL
 * after a complete checkpoint, overwriting it from the start; that is accepted without a snapshot only when the
 * read transaction of {@link DatabaseLocks} was held since the position was last proven. The new header's fields
 * prove nothing either way: salt-1 is usually one higher, but a connection that never restarted the WAL itself
 * draws new random salts after another's TRUNCATE checkpoint, and the checkpoint sequence is each connection's own
 * restart count. The proof: a reader that began while the
 * WAL had uncheckpointed frames holds a read mark that forbids any restart; a reader that began on a completely
 * checkpointed WAL (read lock 0) forbids every checkpoint, so the WAL can restart only if nothing was appended
 * since it began; and each read transaction begins before the previous one ends and after a pass captured the
 * WAL to its end, so a WAL complete when a reader began held only captured frames. Capture's own checkpoints
 * keep this chain by doing the last capture, the checkpoint and the new begin under SQLite's write lock.
 *
 * <p>Anything else (another process restarted or truncated the WAL while Strata was stopped, the salts jumped, the
 * database file was replaced, the checksum table is missing) is not proof. Capture then reads the whole database
 * through a read transaction: if its checksum still equals the recorded one it continues (nothing was missed);
 * otherwise it writes a snapshot at the next TXID and logs why.
 *
 * <h2>Local state</h2>
 * {@code <meta>/state} (TXID, checksum, WAL position and the last file's table entries) is replaced atomically
 * after each level-0 file; {@code <meta>/ltx/} holds files until every replica has them; {@code <meta>/staging}
 * holds pages captured since the last file (never fsynced: after a crash capture resumes from the state). A file
 * is offered to uploaders only after the state recording it is durable, and files above the recorded TXID are
 * deleted on open.
 *
 * <p>The checksum table is persisted, not rebuilt each start: {@code <meta>/checksums} is updated in place after
 * the state, and the state carries the entries its file changed, replayed on open (entries are absolute values,
 * so a torn update is repaired). Before it is trusted, the table's XOR must equal the recorded checksum. When it
 * is missing or does not match, the table is rebuilt by reading the database through the read transaction; if
 * the database's checksum then equals the recorded one, capture continues without a snapshot.
 *
 * <h2>Checkpoints</h2>
 * Only PASSIVE, behind a write-lock barrier held for the last frames ({@link DatabaseLocks#checkpoint}), when the
 * WAL reaches the threshold or the checkpoint interval passed. The monitor runs {@link #capture()} every few
 * milliseconds while commits arrive, so the WAL restarts about as often as the application's own autocheckpoint
 * would restart it: see {@link CaptureOptions#minCheckpointPages()}.
 */
public final class WalCapture implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WalCapture.class);
  private static final Duration CHECKPOINT_RETRY = Duration.ofSeconds(1);
  private static final Duration LOCK_MISSED_WARNING = Duration.ofSeconds(60);
  /**
   * Frames staged per step of a capture (16 MiB of WAL at 4 KiB pages). Behind a writer at full speed the WAL can
   * hold hundreds of megabytes of new frames; taken in one step, what the step allocates outlives the young
   * generation and fills the old one, and the agent's resident memory grows with it.
   */
  private static final long SCAN_FRAMES = 4096;

  private final String name;
  private final Path db;
  private final Path wal;
  private final Path meta;
  private final Path stateFile;
  private final Path tableFile;
  private final CaptureOptions options;
  private final LocalStore store;
  private final DatabaseLocks locks;
  private final FileChannel lockChannel;
  private final FileLock metaLock;
  private final WalReader.ScanBuffer scanBuffer = new WalReader.ScanBuffer(); // reused by every pass
  private final PageMap written = new PageMap(); // per scan: the last frame of each page written; reused
  private final CaptureStats stats = new CaptureStats();
  private final AtomicReference<String> snapshotRequest = new AtomicReference<>();

  // The only descriptor this process ever opens on the database file. Closing any descriptor of a file drops every
  // POSIX lock the process holds on it, SQLite's included: another process closing its last connection would
  // then checkpoint and delete the WAL under us. So it stays open as long as the SQLite connections do.
  private FileChannel dbFile;
  private CaptureState state;
  private PageChecksumTable table;
  private Staging staging; // commits captured since the last level-0 file; null until a state exists
  private WalPosition position; // where capture stands in the WAL (ahead of state.wal() while commits are staged)
  private PageMap walIndex = new PageMap();
  private long provenAt = -1; // locks.breaks() when the position was last proven under the read transaction
  private long txidFloor; // TXIDs up to here exist on some replica and must never be written again
  private volatile long snapshotAbove;
  private boolean inBarrier;
  private boolean capturedSinceCheckpoint;
  private Instant lastCheckpoint;
  private Instant checkpointRetryAfter;
  private Instant lockMissedSince;
  private boolean missingLogged;

  private WalCapture(String name, Path db, FileChannel dbFile, Path meta, CaptureOptions options, LocalStore store,
      FileChannel lockCh, FileLock metaLock) {
    this.dbFile = dbFile;
    this.name = name;
    this.db = db;
    this.wal = db.resolveSibling(db.getFileName() + "-wal");
    this.meta = meta;
    this.stateFile = meta.resolve("state");
    this.tableFile = meta.resolve("checksums");
    this.options = options;
    this.store = store;
    this.lockChannel = lockCh;
    this.metaLock = metaLock;
    this.locks = new DatabaseLocks(db, Math.toIntExact(options.busyTimeout().toMillis()));
    this.lastCheckpoint = options.clock().instant();
  }

  /**
   * Checks the database (exists, is SQLite, is in WAL mode or may be switched to it), locks the meta directory
   * against a second Strata process, and loads the recorded state. Nothing is captured until {@link #start}.
   */
  public static WalCapture open(String name, Path db, Path meta, CaptureOptions options) throws IOException {
    db = db.toAbsolutePath().normalize();
    FileChannel dbFile = openDatabase(db, options);
    try {
      Files.createDirectories(meta);
    } catch (IOException e) {
      dbFile.close();
      throw e;
    }
    FileChannel lockCh = FileChannel.open(meta.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock fl;
    try {
      fl = lockCh.tryLock();
    } catch (OverlappingFileLockException e) {
      fl = null;
    }
    if (fl == null) {
      lockCh.close();
      dbFile.close();
      throw new IllegalArgumentException("another strata process is replicating " + db + " (meta directory "
          + meta + " is locked)");
    }
    WalCapture c = null;
    try {
      c = new WalCapture(name, db, dbFile, meta, options, LocalStore.open(meta.resolve("ltx")), lockCh, fl);
      c.load();
      return c;
    } catch (IOException | RuntimeException e) {
      if (c != null) {
        c.close();
      } else {
        lockCh.close();
        dbFile.close();
      }
      throw e;
    }
  }

  /**
   * Checks, without writing anything, that {@code db} is a SQLite database in WAL mode, or may be switched to it.
   * Only for use before this process opens SQLite connections to the database (see {@link #dbFile}). Throws
   * {@link IllegalArgumentException} with a one-line message.
   */
  public static void check(Path db, CaptureOptions options) throws IOException {
    if (!Files.exists(db)) throw new IllegalArgumentException("database " + db + " does not exist");
    if (!Files.isRegularFile(db)) throw new IllegalArgumentException("database " + db + " is not a file");
    try (FileChannel ch = FileChannel.open(db, StandardOpenOption.READ)) {
      SqliteHeader h = SqliteHeader.read(ch, db);
      if (!h.isWal() && !options.switchToWal()) {
        throw new IllegalArgumentException("database " + db + " is not in WAL mode; run PRAGMA journal_mode=WAL"
            + " on it, or let strata switch it (-switch-to-wal)");
      }
    } catch (java.nio.file.AccessDeniedException e) {
      throw new IllegalArgumentException("database " + db + " is not readable (permission denied)");
    }
  }

  /**
   * Opens the database file for the lifetime of the capture after checking that it is a SQLite database in WAL
   * mode (switching it when the options say so).
   */
  private static FileChannel openDatabase(Path db, CaptureOptions options) throws IOException {
    if (!Files.exists(db)) throw new IllegalArgumentException("database " + db + " does not exist");
    if (!Files.isRegularFile(db)) throw new IllegalArgumentException("database " + db + " is not a file");
    FileChannel ch;
    try {
      ch = FileChannel.open(db, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("database " + db + " does not exist");
    }
    try {
      SqliteHeader h = SqliteHeader.read(ch, db);
      if (h.isWal()) return ch;
      String mode = h.writeVersion() == 1 ? "a rollback journal" : "file format " + h.writeVersion();
      if (!options.switchToWal()) {
        throw new IllegalArgumentException("database " + db + " is not in WAL mode (it uses " + mode
            + "); run PRAGMA journal_mode=WAL on it, or let strata switch it (-switch-to-wal)");
      }
      DatabaseLocks.switchToWal(db, Math.toIntExact(options.busyTimeout().toMillis()));
      log.info("{}: switched to WAL mode", db);
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private void load() throws IOException {
    try {
      state = StateFile.read(stateFile);
    } catch (IOException e) {
      log.warn("{}: capture state is damaged ({}); starting over", name, e.getMessage());
      state = null;
    }
    store.deleteAbove(state == null ? 0 : state.txid());
    if (state == null) return;
    position = state.wal();
    staging = new Staging(meta.resolve("staging"), state.pageSize());
    table = PageChecksumTable.open(tableFile, state.pageSize());
    if (table == null) return;
    table.resize(state.commit());
    replay(table, state.journal(), state.commit());
    if (table.databaseChecksum() != state.postApplyChecksum()) {
      log.warn("{}: checksum table does not match TXID {}; it will be rebuilt", name, Txid.format(state.txid()));
      table.close();
      table = null;
      return;
    }
    table.force();
  }

  private static void replay(PageChecksumTable t, CaptureState.Journal j, int commit) {
    for (int i = 0; i < j.size(); i++) {
      if (j.pgnos()[i] <= commit) t.set(j.pgnos()[i], j.checksums()[i]);
    }
  }

  /** The name used in logs and metrics. */
  public String name() {
    return name;
  }

  /** The database file. */
  public Path database() {
    return db;
  }

  /** The local store the files go to. */
  public LocalStore store() {
    return store;
  }

  /** Counters for metrics. */
  public CaptureStats stats() {
    return stats;
  }

  /**
   * The last TXID written to the local store (commits staged since are not counted); 0 before {@link #start}.
   */
  public synchronized long txid() {
    return state == null ? 0 : state.txid();
  }

  /** The database checksum after {@link #txid()}. */
  public synchronized long postApplyChecksum() {
    return state == null ? 0 : state.postApplyChecksum();
  }

  /**
   * Establishes the position to capture from: continues the recorded state when the WAL proves it (or a read of
   * the database shows nothing was missed), continues a replica's chain when there is no local state and the
   * database still equals the replica's latest position, and otherwise writes a snapshot.
   *
   * @param head the newest position on the replicas; TXIDs at or below it are never written again
   */
  public synchronized void start(ReplicaHead head) throws IOException {
    txidFloor = head.txid();
    locks.beginRead();
    if (state == null) {
      if (head.txid() == 0) {
        snapshot("first start: no local state and no replica data");
        return;
      }
      long breaks = locks.breaks();
      DatabaseRead rd = readDatabase(0);
      if (head.postApplyChecksum() != 0 && rd.checksum() == head.postApplyChecksum()) {
        adopt(rd, head.txid(), null);
        // read under the read transaction: a WAL that appears after this continues what was read
        markProven(breaks);
        log.info("{}: no local state; the database equals the replica's latest position (TXID {}), continuing its"
            + " chain without a snapshot", name, Txid.format(head.txid()));
        return;
      }
      rd.discard();
      snapshot("no local state, and the database differs from the replica's latest TXID " + Txid.format(head.txid()));
      return;
    }
    if (Long.compareUnsigned(head.txid(), state.txid()) > 0) {
      snapshot("a replica is ahead of the local state (TXID " + Txid.format(head.txid()) + " > "
          + Txid.format(state.txid()) + ")");
      return;
    }
    sync();
  }

  /** Asks for a snapshot at the next pass, at a TXID above {@code aboveTxid} (thread-safe). */
  public void requestSnapshot(long aboveTxid, String reason) {
    synchronized (snapshotRequest) {
      if (Long.compareUnsigned(aboveTxid, snapshotAbove) > 0) snapshotAbove = aboveTxid;
      snapshotRequest.compareAndSet(null, reason);
    }
  }

  /** True while a snapshot request waits for the next pass. */
  public boolean snapshotRequested() {
    return snapshotRequest.get() != null;
  }

  /**
   * One pass: captures the commits added to the WAL since the last pass and writes what is staged as one level-0
   * file. Returns true when a file (or a snapshot) was written.
   */
  public synchronized boolean sync() throws IOException {
    if (state == null) return false; // not started
    String request = snapshotRequest.getAndSet(null);
    if (request != null) {
      snapshot(request);
      return true;
    }
    boolean snapshotted = capture();
    return flush() || snapshotted;
  }

  /**
   * Copies the commits added to the WAL since the last capture into the staging file, without writing a level-0
   * file; cheap enough to run every few milliseconds while a database is busy. Returns true when commits were
   * captured (or a snapshot written).
   */
  public synchronized boolean capture() throws IOException {
    if (state == null) return false; // not started
    FileIdentity id;
    try {
      id = FileIdentity.of(db);
    } catch (NoSuchFileException e) {
      if (!missingLogged) log.warn("{}: database file is missing; waiting for it to come back", name);
      missingLogged = true;
      return false;
    }
    if (missingLogged) log.info("{}: database file is back", name);
    missingLogged = false;
    if (!id.equals(state.database())) {
      if (inBarrier) throw new NeedsProof();
      locks.close();
      dbFile.close();
      dbFile = openDatabase(db, options);
      return establish("the database file was replaced (inode " + state.database().inode() + " → " + id.inode()
          + ")");
    }
    if (table == null) return establish("the checksum table is missing or does not match TXID "
        + Txid.format(state.txid()));
    long breaks = locks.breaks();
    boolean guarded = provenAt == breaks && locks.readHeld();
    if (!locks.readHeld()) locks.beginRead();
    try (DatabaseLocks.Hold still = locks.holdStill(); WalReader r = WalReader.open(wal, scanBuffer)) {
      stats.walBytes = r.size();
      WalHeader h;
      try {
        h = r.readHeader();
      } catch (WalException e) {
        return guarded ? false : establish("the WAL header is invalid (" + e.getMessage() + ")");
      }
      WalPosition pos = position;
      if (h == null) {
        log.debug("{}: no WAL header (guarded {}, position {}, wal size {})", name, guarded, pos, r.size());
        if (pos == null || guarded) {
          // no WAL yet, or a TRUNCATE checkpoint emptied it while every frame had been captured (see class doc)
          markProven(breaks);
          return false;
        }
        return establish("the WAL is missing or empty, expected " + pos);
      }
      if (h.pageSize() != state.pageSize()) {
        return establish("the WAL page size is " + h.pageSize() + ", expected " + state.pageSize());
      }
      if (pos != null && pos.sameGeneration(h)) {
        if (!r.frameMatches(h, pos.frame(), pos.checksum())) {
          return establish("the WAL was overwritten: frame " + pos.frame() + " no longer carries the checksum"
              + " captured");
        }
      } else if (guarded) {
        log.debug("{}: WAL restarted, salts {}", name, String.format("%08x %08x", h.salt1(), h.salt2()));
        pos = WalPosition.start(h);
        position = pos;
        walIndex.clear();
        // before this capture, which may take a while: the restarted WAL holds frames, so the read transaction
        // leaves read lock 0 for a read mark, which also keeps the WAL from restarting again (see leaveLockZero)
        if (!inBarrier) locks.leaveLockZero();
      } else {
        return establish(describeChange(pos, h));
      }
      if (walIndex.through() < pos.frame()) {
        // first pass since open: index the generation's frames up to the position (they were captured before)
        WalScan all = r.scan(h, 0, h.checksum());
        if (Long.compareUnsigned(all.endFrame(), pos.frame()) < 0) {
          return establish("the WAL frames before frame " + pos.frame() + " no longer verify");
        }
        walIndex.clear();
        for (long n = 1; n <= pos.frame(); n++) walIndex.put(all.pgno(n), n);
        walIndex.advance(pos.frame());
      }
      WalScan scan = r.scan(h, pos.frame(), pos.checksum(), SCAN_FRAMES);
      if (!scan.hasCommits()) {
        if (h.equals(headerOrNull(r))) markProven(breaks);
        return false;
      }
      if (!stage(r, h, pos, scan)) return false;
      while (scan.more()) { // behind a fast writer: the rest in bounded steps
        pos = position;
        scan = r.scan(h, pos.frame(), pos.checksum(), SCAN_FRAMES);
        if (scan.hasCommits() && !stage(r, h, pos, scan)) return true; // what was staged before still holds
      }
      // The read transaction is not moved forward here (only by the checkpoint barrier). Moving it would let the
      // application's autocheckpoint copy a little more after every capture, with two fsyncs in its own commit
      // path each time; held still, that autocheckpoint finds nothing to do and returns at once. The exception is
      // the first capture after the barrier: there the read transaction may hold read lock 0, which makes those
      // attempts costly instead (see leaveLockZero). Moved after a capture, as the barrier's rounds move it.
      markProven(breaks);
      if (!inBarrier) locks.leaveLockZero();
      return true;
    }
  }

  private void markProven(long breaks) {
    if (locks.breaks() == breaks && locks.readHeld()) provenAt = breaks;
  }

  private static WalHeader headerOrNull(WalReader r) throws IOException {
    try {
      return r.readHeader();
    } catch (WalException e) {
      return null;
    }
  }

  private static String describeChange(WalPosition pos, WalHeader h) {
    String now = "generation " + Integer.toUnsignedLong(h.checkpointSeq()) + String.format(" (salts %08x %08x)",
        h.salt1(), h.salt2());
    if (pos == null) return "a WAL appeared (" + now + ") while strata was not watching";
    return "the WAL was restarted or replaced while strata was not holding its read transaction (" + pos + " → "
        + now + ")";
  }

  /**
   * Stages the commits of {@code scan}: the last version of each page written, and the pages a shrink-then-grow
   * within the scan brought back without writing them (SQLite reads their older version, so they are read from
   * the database as SQLite sees it). False when the WAL restarted while its pages were read.
   */
  private boolean stage(WalReader r, WalHeader h, WalPosition pos, WalScan scan) throws IOException {
    int lockPgno = LtxHeader.lockPgno(state.pageSize());
    if (staging.isEmpty()) staging.begin(state.commit());
    int smallest = Math.min(staging.commit(), scan.smallestCommitSize());
    written.clear();
    for (long n = pos.frame() + 1; n <= scan.endFrame(); n++) written.put(scan.pgno(n), n);
    byte[] page = new byte[state.pageSize()];
    staging.mark();
    try {
      for (int p : written.pages()) {
        if (p == lockPgno) continue;
        r.readPage(h, written.frame(p), page);
        staging.put(p, page);
      }
      DatabaseView view = new DatabaseView(dbFile, r, h, walIndex); // frames up to pos.frame()
      for (int p = smallest + 1; p <= scan.commitSize(); p++) {
        if (p == lockPgno || written.frame(p) != 0) continue;
        view.readPage(p, page);
        staging.put(p, page);
      }
      if (!h.equals(headerOrNull(r))) { // restarted while reading: the pages read may be another generation's
        staging.rollback();
        return false;
      }
    } catch (IOException | RuntimeException e) {
      staging.rollback();
      throw e;
    }
    staging.unmark();
    staging.addCommits(scan.commits(), smallest, scan.commitSize(), h.salt1(), h.salt2(),
        h.frameOffset(pos.frame() + 1), (scan.endFrame() - pos.frame()) * h.frameSize());
    for (long n = pos.frame() + 1; n <= scan.endFrame(); n++) walIndex.put(scan.pgno(n), n);
    walIndex.advance(scan.endFrame());
    position = pos.at(scan.endFrame(), scan.checksum());
    stats.recordWalFrames(scan.endFrame());
    capturedSinceCheckpoint = true;
    return true;
  }

  /**
   * Writes the staged commits as one level-0 file (TXIDs last+1 … last+commits), makes it and then the state
   * durable, offers the file to the uploaders and updates the checksum table. Returns false when nothing was
   * staged. Reads nothing but the staging file, so it is safe whatever happened to the WAL since.
   */
  public synchronized boolean flush() throws IOException {
    if (staging == null || staging.isEmpty()) return false;
    int pageSize = state.pageSize();
    int lockPgno = LtxHeader.lockPgno(pageSize);
    int preCommit = staging.preCommit();
    int commit = staging.commit();
    int[] pgnos = staging.pages();
    for (int p = staging.minCommit() + 1; p <= commit; p++) {
      if (p != lockPgno && !staging.has(p)) throw new IllegalStateException("page " + p + " regrown but not staged");
    }
    long minTxid = state.txid() + 1, maxTxid = state.txid() + staging.commits();
    long pre = state.postApplyChecksum();
    LtxHeader header = new LtxHeader(LtxHeader.FLAG_COMPRESS_LZ4, pageSize, commit, minTxid, maxTxid,
        options.clock().millis(), pre, staging.walOffset(), staging.walBytes(), staging.salt1(), staging.salt2(), 0);
    long[] sums = new long[pgnos.length];
    long post = pre;
    LocalFile file;
    CaptureState next;
    try (LocalStore.Writer out = store.create(0)) {
      LtxEncoder enc = new LtxEncoder(out.stream(), header);
      byte[] page = new byte[pageSize];
      for (int i = 0; i < pgnos.length; i++) {
        int p = pgnos[i];
        staging.read(p, page);
        long crc = Checksum.pageCrc(p, page, 0, pageSize);
        long sum = Checksum.FLAG | crc;
        sums[i] = sum;
        post = Checksum.roll(post, p <= preCommit ? table.get(p) : 0, sum);
        enc.encodePage(p, page, 0, crc);
      }
      for (int p = commit + 1; p <= preCommit; p++) {
        if (p != lockPgno) post = Checksum.FLAG | (post ^ table.get(p)); // truncated away
      }
      LtxTrailer trailer = enc.finish(post);
      file = out.commit(new LtxFileInfo(header, trailer, pgnos.length));
      next = new CaptureState(maxTxid, post, pageSize, commit, state.database(), position,
          new CaptureState.Journal(pgnos, sums));
      try {
        StateFile.write(stateFile, next);
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(file.path()); // not recorded: it must not reach a replica
        throw e;
      }
    }
    state = next;
    store.publish(file);
    int commits = staging.commits();
    staging.clear();
    table.resize(commit);
    replay(table, next.journal(), commit);
    table.force();
    stats.recordPass(maxTxid, commits, file.size());
    log.debug("{}: captured TXID {}-{} ({} pages)", name, Txid.format(minTxid), Txid.format(maxTxid),
        pgnos.length);
    return true;
  }

  /**
   * The WAL cannot prove that it continues the recorded position: reads the whole database and continues if it
   * still has the recorded checksum, otherwise writes a snapshot. Returns true when a snapshot was written.
   */
  private boolean establish(String reason) throws IOException {
    if (inBarrier) throw new NeedsProof();
    flush(); // what was captured before is valid: keep it
    locks.beginRead();
    long breaks = locks.breaks();
    if (state != null && state.txid() != 0) {
      DatabaseRead rd = readDatabase(0);
      if (rd.checksum() == state.postApplyChecksum() && rd.pageSize() == state.pageSize()) {
        adopt(rd, state.txid(), null);
        markProven(breaks);
        log.info("{}: {}; the database still matches TXID {} ({} pages read), continuing without a snapshot", name,
            reason, Txid.format(state.txid()), rd.commit());
        return false;
      }
      rd.discard();
      reason = reason + "; the database no longer matches TXID " + Txid.format(state.txid());
    }
    snapshot(reason);
    return true;
  }

  /** Writes a full snapshot at the next TXID, to level 9, read from the read transaction. */
  private void snapshot(String reason) throws IOException {
    if (staging != null) flush();
    locks.beginRead();
    long breaks = locks.breaks();
    long t = 0;
    if (state != null) t = state.txid();
    if (Long.compareUnsigned(txidFloor, t) > 0) t = txidFloor;
    if (Long.compareUnsigned(snapshotAbove, t) > 0) t = snapshotAbove;
    t++;
    DatabaseRead rd = readDatabase(t);
    adopt(rd, t, rd.snapshot());
    markProven(breaks);
    stats.snapshots++;
    log.info("{}: snapshot at TXID {} ({} pages, {} bytes): {}", name, Txid.format(t), rd.commit(),
        rd.snapshot().size(), reason);
  }

  /** Makes a full read of the database the recorded state at {@code txid}, publishing {@code snapshot} if any. */
  private void adopt(DatabaseRead rd, long txid, LocalFile snapshot) throws IOException {
    if (table != null) table.close();
    table = null;
    AtomicFiles.rename(rd.tablePath(), tableFile);
    CaptureState next = new CaptureState(txid, rd.checksum(), rd.pageSize(), rd.commit(), rd.identity(),
        rd.position(), CaptureState.Journal.EMPTY);
    StateFile.write(stateFile, next);
    state = next;
    if (snapshot != null) store.publish(snapshot);
    table = PageChecksumTable.open(tableFile, rd.pageSize());
    if (table == null) throw new IOException(tableFile + ": checksum table vanished");
    table.resize(rd.commit());
    walIndex = rd.index();
    position = rd.position();
    if (staging == null || staging.pageSize() != rd.pageSize()) {
      if (staging != null) staging.close();
      staging = new Staging(meta.resolve("staging"), rd.pageSize());
    }
    capturedSinceCheckpoint = true;
    stats.txid = txid;
  }

  /** A full read of the database: its checksum, a fresh checksum table, and optionally a snapshot file. */
  private record DatabaseRead(int pageSize, int commit, long checksum, FileIdentity identity, WalPosition position,
      PageMap index, Path tablePath, LocalFile snapshot) {
    void discard() throws IOException {
      Files.deleteIfExists(tablePath);
      if (snapshot != null) Files.deleteIfExists(snapshot.path());
    }
  }

  /**
   * Reads every page of the database as the read transaction sees it (database file plus the current WAL
   * generation's committed frames), computing its checksum and a new table, and writing a snapshot at
   * {@code snapshotTxid} unless it is 0. Retries when the WAL restarts during the read.
   */
  private DatabaseRead readDatabase(long snapshotTxid) throws IOException {
    for (int attempt = 1; ; attempt++) {
      DatabaseRead rd = tryReadDatabase(snapshotTxid);
      if (rd != null) return rd;
      if (attempt == 5) throw new IOException(db + ": the WAL kept restarting while the database was read");
      locks.refreshRead();
    }
  }

  private DatabaseRead tryReadDatabase(long snapshotTxid) throws IOException {
    FileIdentity identity = FileIdentity.of(db);
    Path tmpTable = meta.resolve("checksums.tmp");
    try (DatabaseLocks.Hold still = locks.holdStill(); WalReader r = WalReader.open(wal, scanBuffer)) {
      WalHeader h = headerOrNull(r);
      PageMap index = new PageMap();
      WalPosition pos = null;
      int pageSize;
      int commit;
      if (h != null) {
        WalScan s = r.scan(h, 0, h.checksum());
        for (long n = 1; n <= s.endFrame(); n++) index.put(s.pgno(n), n);
        index.advance(s.endFrame());
        pos = WalPosition.start(h).at(s.endFrame(), s.checksum());
        pageSize = h.pageSize();
        commit = s.hasCommits() ? s.commitSize() : Math.toIntExact(dbFile.size() / pageSize);
      } else {
        pageSize = SqliteHeader.read(dbFile, db).pageSize();
        commit = Math.toIntExact(dbFile.size() / pageSize);
      }
      int lockPgno = LtxHeader.lockPgno(pageSize);
      DatabaseView view = new DatabaseView(dbFile, h == null ? null : r, h, index);
      LocalFile snapshot = null;
      long sum = Checksum.EMPTY_DATABASE;
      try (PageChecksumTable t = PageChecksumTable.create(tmpTable, pageSize, commit);
          LocalStore.Writer out = snapshotTxid == 0 ? null : store.create(9)) {
        LtxEncoder enc = out == null ? null
            : new LtxEncoder(out.stream(), LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, pageSize, commit, 1,
                snapshotTxid, options.clock().millis(), 0));
        byte[] page = new byte[pageSize];
        for (int p = 1; p <= commit; p++) {
          if (p == lockPgno) continue;
          view.readPage(p, page);
          long crc = Checksum.pageCrc(p, page, 0, pageSize);
          long ck = Checksum.FLAG | crc;
          t.set(p, ck);
          sum ^= ck;
          if (enc != null) enc.encodePage(p, page, 0, crc);
        }
        sum |= Checksum.FLAG;
        if (h != null && !h.equals(headerOrNull(r))) {
          Files.deleteIfExists(tmpTable);
          return null;
        }
        t.force();
        if (enc != null) {
          LtxTrailer trailer = enc.finish(sum);
          snapshot = out.commit(new LtxFileInfo(enc.header(), trailer, enc.pageCount()));
        }
      }
      if (!identity.equals(FileIdentity.of(db))) {
        Files.deleteIfExists(tmpTable);
        if (snapshot != null) Files.deleteIfExists(snapshot.path());
        return null;
      }
      return new DatabaseRead(pageSize, commit, sum, identity, pos, index, tmpTable, snapshot);
    }
  }

  /**
   * Runs a PASSIVE checkpoint when one is due: the WAL holds at least {@code minCheckpointPages} frames, or the
   * checkpoint interval passed, and something was captured since the last one. Returns null when none was due.
   */
  public synchronized DatabaseLocks.Checkpoint checkpointIfDue() throws IOException {
    if (state == null || position == null || !capturedSinceCheckpoint) return null;
    Instant now = options.clock().instant();
    if (checkpointRetryAfter != null && now.isBefore(checkpointRetryAfter)) return null;
    long frames = position.frame();
    boolean due = frames >= options.minCheckpointPages()
        || (frames > 0 && Duration.between(lastCheckpoint, now).compareTo(options.checkpointInterval()) >= 0);
    return due ? checkpoint() : null;
  }

  /**
   * Captures the WAL (to staging), then checkpoints it PASSIVE behind SQLite's write lock so that it is copied completely and
   * the next writer restarts it (see {@link DatabaseLocks#checkpoint}). Never RESTART or TRUNCATE.
   */
  public synchronized DatabaseLocks.Checkpoint checkpoint() throws IOException {
    capture();
    DatabaseLocks.Checkpoint result;
    inBarrier = true;
    try {
      // under the write lock only the last few frames are copied to staging: no fsync of ours holds writers up
      result = locks.checkpoint(this::captureCounted, dbFile);
    } catch (NeedsProof e) {
      return new DatabaseLocks.Checkpoint(true, true, -1, -1, 0); // the next pass proves or snapshots, unlocked
    } finally {
      inBarrier = false;
    }
    Instant now = options.clock().instant();
    if (result.writeLocked()) {
      lastCheckpoint = now;
      capturedSinceCheckpoint = false;
      stats.recordCheckpoint(result.lockNanos());
    }
    // busy (another checkpoint ran, or writers never let go of the write lock): try again at the next capture;
    // held back by readers: not before a while
    checkpointRetryAfter = result.complete() || result.busy() ? null : now.plus(CHECKPOINT_RETRY);
    if (result.writeLocked()) {
      lockMissedSince = null;
    } else if (lockMissedSince == null) {
      lockMissedSince = now;
    } else if (Duration.between(lockMissedSince, now).compareTo(LOCK_MISSED_WARNING) >= 0) {
      log.warn("{}: for {}s writers have not let go of SQLite's write lock long enough to checkpoint; the WAL keeps"
          + " growing ({} frames)", name, Duration.between(lockMissedSince, now).toSeconds(), position == null ? 0
          : position.frame());
      lockMissedSince = now;
    }
    if (result.complete()) {
      log.debug("{}: checkpointed {} WAL frames", name, result.walFrames());
    } else {
      log.debug("{}: checkpoint incomplete ({}/{} frames, write lock {})", name, result.checkpointedFrames(),
          result.walFrames(), result.writeLocked() ? "taken" : "busy");
    }
    return result;
  }

  /** Captures; returns how many WAL frames that took in (all of a restarted WAL's). */
  private long captureCounted() throws IOException {
    WalPosition before = position;
    capture();
    if (position == null) return 0;
    return before != null && before.sameGeneration(position) ? position.frame() - before.frame() : position.frame();
  }

  /** Thrown inside the checkpoint barrier when the WAL needs proof that must not run under the write lock. */
  private static final class NeedsProof extends IOException {
    NeedsProof() {
      super("continuity must be proven outside the checkpoint barrier");
    }
  }

  /** Releases the database and the meta directory. */
  @Override
  public synchronized void close() throws IOException {
    try {
      locks.close();
      if (table != null) table.close();
      table = null;
      if (staging != null) staging.close();
      staging = null;
      dbFile.close(); // after the connections: see the field's comment
    } finally {
      try {
        metaLock.release();
      } catch (IOException e) {
        // closing the channel releases it too
      }
      lockChannel.close();
    }
  }

  @Override
  public String toString() {
    return "WalCapture[" + name + ", " + Objects.toString(state) + "]";
  }
}
