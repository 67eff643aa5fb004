package dev.strata.agent.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.LockSupport;
import org.sqlite.BusyHandler;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * The SQLite locks capture holds on a database, through JDBC connections that never write.
 *
 * <p>A read transaction is open at all times, alternating between two read-only connections: the next one begins
 * before the previous one ends. While it is held, no checkpoint can copy WAL frames past its read mark into the
 * database file and no writer can restart the WAL over frames the mark covers; when it holds SQLite's read lock 0
 * (taken when the WAL was completely checkpointed) it stops every checkpoint. {@link WalCapture} relies on this to
 * prove that a WAL restart only ever overwrites frames it has already captured. {@link #breaks()} counts the times
 * the chain was broken (a connection failed), after which that proof no longer holds.
 *
 * <p>For checkpoints a read-write connection takes SQLite's write lock ({@code BEGIN IMMEDIATE}, never committed)
 * for a few milliseconds: with writers held off, capture reads the WAL to its very end, the read transaction is
 * ended, a PASSIVE checkpoint copies everything, and the read transaction begins again before the lock is
 * released. Read-only connections are closed last because closing the last read-write connection of a database
 * makes SQLite checkpoint and delete its WAL.
 *
 * <p>After the barrier the read transaction holds read lock 0 until the application commits again, which restarts
 * the WAL; then it moves to a read mark in the new WAL ({@link #leaveLockZero}), from capture or from a short-lived
 * background watcher, whichever sees the commit first.
 */
public final class DatabaseLocks implements AutoCloseable {
  private final Path db;
  private final Path walPath;
  private final Path shmPath;
  // The only descriptor this process opens on the WAL index, kept open until the SQLite connections are closed:
  // closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's WAL locks included
  // (another process could then truncate the index SQLite has mapped, or restart the WAL under our read mark).
  private FileChannel shm;
  private final int busyTimeoutMillis;
  private final Connection[] readers = new Connection[2];
  private int current = -1; // index of the reader holding the read transaction, -1 when none
  private Connection writer;
  private Connection checkpointer;
  private long breaks;
  private boolean mayHoldLockZero; // the read transaction began under the barrier, on a fully checkpointed WAL
  private int holds; // reads in progress that need the read transaction to stay where it is (see holdStill)

  /**
   * What a checkpoint did.
   *
   * @param lockNanos how long SQLite's write lock was held (writers waited at most this long)
   */
  public record Checkpoint(boolean writeLocked, boolean busy, int walFrames, int checkpointedFrames, long lockNanos) {
    /** True when every frame of the WAL was copied into the database file. */
    public boolean complete() {
      return writeLocked && !busy && walFrames >= 0 && walFrames == checkpointedFrames;
    }
  }

  /** Captures the WAL to its end; run before and under the write lock. */
  @FunctionalInterface
  public interface CaptureAction {
    /** Captures what the WAL holds past the last capture; returns how many frames that was. */
    long run() throws IOException;
  }

  public DatabaseLocks(Path db, int busyTimeoutMillis) {
    this.db = db;
    this.walPath = db.resolveSibling(db.getFileName() + "-wal");
    this.shmPath = db.resolveSibling(db.getFileName() + "-shm");
    this.busyTimeoutMillis = busyTimeoutMillis;
  }

  /** How many times the read transaction was lost; unchanged means it was held throughout. */
  public synchronized long breaks() {
    return breaks;
  }

  /** True while a read transaction is held. */
  public synchronized boolean readHeld() {
    return current >= 0;
  }

  /** Begins the read transaction if none is held. */
  public synchronized void beginRead() throws IOException {
    if (current >= 0) return;
    begin(0);
    current = 0;
    mayHoldLockZero = true; // on a fully checkpointed WAL
  }

  /**
   * Moves the read transaction to the current end of the WAL: begins it on the other connection, then ends the
   * old one, so that one is held at every instant.
   */
  public synchronized void refreshRead() throws IOException {
    if (current < 0) {
      beginRead();
      return;
    }
    int next = 1 - current;
    begin(next);
    int old = current;
    current = next;
    mayHoldLockZero = false;
    end(old);
  }

  /**
   * Moves the read transaction off SQLite's read lock 0 once the WAL holds frames again after the barrier. On read
   * lock 0 it stops every checkpoint but not the application's attempts: once its WAL passes its autocheckpoint
   * size, each of its commits sorts the whole WAL into a checkpoint plan, then finds read lock 0 taken and gives
   * up (measured: the WAL past 1,000 frames with read lock 0 held for 31% of a full-speed writer's run, and a
   * quarter of its CPU in that sort). A read mark in the WAL instead lets the application's first attempt copy the
   * few frames below it, after which its attempts find nothing to copy and return at once, as they do beside
   * Litestream.
   */
  public synchronized void leaveLockZero() throws IOException {
    if (mayHoldLockZero && current >= 0 && uncheckpointedFrames()) refreshRead();
  }

  /** Ends a {@link #holdStill()}. */
  public interface Hold extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Keeps the background watcher of {@link #watchForCommit} from moving the read transaction until the hold is
   * closed. Capture reads pages from the database file as of the WAL frames it scanned; a read mark moved past
   * them meanwhile would let a checkpoint copy newer versions of those pages into the file under the read.
   * Capture's own moves happen only where nothing is being read.
   */
  public synchronized Hold holdStill() {
    holds++;
    return () -> {
      synchronized (DatabaseLocks.this) {
        holds--;
      }
    };
  }

  private void begin(int i) throws IOException {
    try {
      if (readers[i] == null) readers[i] = open(true);
      try (Statement s = readers[i].createStatement()) {
        s.execute("BEGIN");
        try (ResultSet rs = s.executeQuery("PRAGMA schema_version")) {
          rs.next();
        }
      }
    } catch (SQLException e) {
      lost(i);
      throw failure("begin read transaction", e);
    }
  }

  private void end(int i) throws IOException {
    try (Statement s = readers[i].createStatement()) {
      s.execute("COMMIT");
    } catch (SQLException e) {
      lost(i);
      throw failure("end read transaction", e);
    }
  }

  private void lost(int i) {
    breaks++;
    if (current == i) current = -1;
    closeQuietly(readers[i]);
    readers[i] = null;
  }

  /** Ends the read transaction (for closing). */
  public synchronized void endRead() throws IOException {
    if (current < 0) return;
    int old = current;
    current = -1;
    breaks++;
    end(old);
  }

  /**
   * Runs a PASSIVE checkpoint behind a write-lock barrier. First, without any lock, rounds of: the read transaction
   * moves to the end of the WAL, a checkpoint copies everything up to there while writers go on, and {@code
   * capture} reads what they appended meanwhile; rounds repeat until that is small (or {@link #CATCH_UP_ROUNDS}
   * ran: a writer faster than the disk's checkpoints leaves a longer tail). Then it takes the write lock, runs
   * {@code capture} for the last frames, ends the read transaction, checkpoints the few frames left, begins
   * the read transaction and releases the lock: writers wait only for the last frames. When the write lock stays
   * busy, nothing else happens and the result says so.
   *
   * @param dbFile a descriptor of the database file, for the checkpoint's sync (see {@link #passiveAwaitingOthers})
   */
  public synchronized Checkpoint checkpoint(CaptureAction capture, FileChannel dbFile) throws IOException {
    // Each round begins the new read transaction after a capture and before the old one ends, as refreshRead
    // always does: the proof of continuity holds without the write lock.
    for (int round = 1; round <= CATCH_UP_ROUNDS; round++) {
      refreshRead();
      // busy: an application's checkpoint is copying up to our new read mark, as ours would; it is waited for
      // here, unlocked, rather than under the lock below
      passiveAwaitingOthers(dbFile);
      if (capture.run() <= BARRIER_TAIL_FRAMES) break;
    }
    try {
      if (writer == null) {
        writer = open(false);
        BusyHandler.setHandler(writer, new Spin(WRITE_LOCK_SPIN_NANOS));
      }
      try (Statement s = writer.createStatement()) {
        s.execute("BEGIN IMMEDIATE");
      }
    } catch (SQLException e) {
      if (isBusy(e)) return new Checkpoint(false, true, -1, -1, 0);
      closeQuietly(writer);
      writer = null;
      throw failure("take write lock", e);
    }
    long locked = System.nanoTime();
    try {
      capture.run();
      if (current >= 0) {
        int old = current;
        current = -1;
        end(old); // the gap until the next begin is covered by the write lock
      }
      // busy: an application's checkpoint is running. It began before the lock, cannot go past our old read mark
      // and no other can start while we hold the write lock, so it ends soon: wait for it. Giving up instead lets
      // the WAL grow past the application's autocheckpoint size, after which the application checkpoints after
      // every commit and keeps ours busy for good.
      Checkpoint result = passiveAwaitingOthers(dbFile);
      begin(0);
      current = 0;
      mayHoldLockZero = true;
      watchForCommit();
      return new Checkpoint(true, result.busy(), result.walFrames(), result.checkpointedFrames(),
          System.nanoTime() - locked);
    } finally {
      try {
        if (current < 0) {
          try {
            begin(0);
            current = 0;
            mayHoldLockZero = true;
          } catch (IOException e) {
            // counted as a break by begin(); capture will re-prove its position
          }
        }
      } finally {
        try (Statement s = writer.createStatement()) {
          s.execute("ROLLBACK");
        } catch (SQLException e) {
          closeQuietly(writer);
          writer = null;
        }
      }
    }
  }

  /**
   * The barrier is taken once at most this many frames are left past the unlocked checkpoint (or after
   * {@link #CATCH_UP_ROUNDS} rounds): writers wait while those are captured and copied.
   */
  private static final int BARRIER_TAIL_FRAMES = 32, CATCH_UP_ROUNDS = 8;

  /** How long a checkpoint waits for an application's checkpoint to end (under the write lock, or not). */
  private static final long BUSY_WAIT_NANOS = 50_000_000;

  /** How long the barrier tries for the write lock before giving up until the next capture. */
  private static final long WRITE_LOCK_SPIN_NANOS = 100_000_000;

  /**
   * Retries a busy lock at once instead of sleeping. SQLite's write lock is not fair: an application committing
   * in a tight loop takes it again microseconds after releasing it, and the default busy handler, which sleeps
   * between attempts, would starve the barrier; retrying without a pause catches the gap between two of its
   * transactions.
   */
  private static final class Spin extends BusyHandler {
    private final long limitNanos;
    private long deadline;

    Spin(long limitNanos) {
      this.limitNanos = limitNanos;
    }

    @Override
    protected int callback(int previous) {
      long now = System.nanoTime();
      if (previous == 0) deadline = now + limitNanos;
      return now - deadline >= 0 ? 0 : 1; // retry at once: the gap between two commits lasts microseconds
    }
  }

  /**
   * A PASSIVE checkpoint, retried for up to {@link #BUSY_WAIT_NANOS} while another checkpoint runs, with SQLite's
   * order of syncs done here: the WAL's frames are made durable before any is copied (once: the checkpoint copies
   * no further than the read marks held when it is called, which retries do not move), the database file's pages
   * after, before the next read transaction may let a writer restart the WAL over them. The checkpointing
   * connection runs with {@code synchronous=OFF} because this build of SQLite syncs with fsync, which on ext4 waits
   * for a journal commit each time (15 to 25 ms under a busy writer, measured while holding the write lock);
   * {@link FileChannel#force force(false)} is fdatasync, what SQLite uses where it can.
   */
  private Checkpoint passiveAwaitingOthers(FileChannel dbFile) throws IOException {
    syncWal();
    Checkpoint result = passive();
    long waitUntil = System.nanoTime() + BUSY_WAIT_NANOS;
    while (result.busy() && System.nanoTime() - waitUntil < 0 && !Thread.currentThread().isInterrupted()) {
      LockSupport.parkNanos(200_000);
      result = passive();
    }
    if (result.checkpointedFrames() > 0) dbFile.force(false);
    return result;
  }

  private Checkpoint passive() throws IOException {
    try {
      if (checkpointer == null) {
        checkpointer = open(false);
        try (Statement s = checkpointer.createStatement()) {
          s.execute("PRAGMA synchronous=OFF");
        }
      }
      try (Statement s = checkpointer.createStatement();
          ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
        rs.next();
        return new Checkpoint(false, rs.getInt(1) != 0, rs.getInt(2), rs.getInt(3), 0);
      }
    } catch (SQLException e) {
      if (isBusy(e)) return new Checkpoint(false, true, -1, -1, 0);
      closeQuietly(checkpointer);
      checkpointer = null;
      throw failure("checkpoint", e);
    }
  }

  private void syncWal() throws IOException {
    try (FileChannel wal = FileChannel.open(walPath, StandardOpenOption.READ)) {
      wal.force(false);
    } catch (NoSuchFileException e) {
      // no WAL: nothing to copy
    }
  }

  /**
   * After a barrier, waits in the background for the application to commit again, then leaves read lock 0 at
   * once: capture may be busy for a while (writing a level-0 file), and the application writes thousands of frames
   * meanwhile. Polls every {@link #COMMIT_POLL_NANOS} for up to {@link #COMMIT_WATCH_NANOS}; ends early once the
   * read transaction has moved. Waits while capture holds the read transaction still ({@link #holdStill}).
   */
  private void watchForCommit() {
    Thread.ofVirtual().name("strata-lock0-" + db.getFileName()).start(() -> {
      long until = System.nanoTime() + COMMIT_WATCH_NANOS;
      while (System.nanoTime() - until < 0) {
        LockSupport.parkNanos(COMMIT_POLL_NANOS);
        synchronized (this) {
          if (!mayHoldLockZero || current < 0) return;
          if (holds == 0 && uncheckpointedFrames()) {
            try {
              refreshRead();
            } catch (IOException e) {
              // counted as a break; capture proves its position again
            }
            return;
          }
        }
      }
    });
  }

  private static final long COMMIT_POLL_NANOS = 500_000, COMMIT_WATCH_NANOS = 5_000_000_000L;

  /**
   * Whether the WAL holds committed frames that no checkpoint copied, read from SQLite's WAL index ({@code -shm}:
   * the index header's {@code mxFrame}, the checkpoint info's {@code nBackfill}; native byte order). Only then does
   * a new read transaction take a read mark: on a fully copied WAL, SQLite gives it read lock 0 again. A torn read
   * (SQLite updating the index meanwhile) only makes this guess wrong once.
   */
  private synchronized boolean uncheckpointedFrames() {
    try {
      if (shm == null) {
        if (current < 0) return false; // opened while a connection has it open too, closed after them
        shm = FileChannel.open(shmPath, StandardOpenOption.READ);
      }
      ByteBuffer b = ByteBuffer.allocate(100).order(ByteOrder.nativeOrder());
      while (b.hasRemaining() && shm.read(b, b.position()) > 0) {
        // the first copy of the index header, the second, then nBackfill
      }
      return !b.hasRemaining() && b.getInt(16) != b.getInt(96);
    } catch (IOException e) {
      return false;
    }
  }

  /** Switches a database in another journal mode to WAL (takes an exclusive lock briefly). */
  public static void switchToWal(Path db, int busyTimeoutMillis) throws IOException {
    try (Connection c = new DatabaseLocks(db, busyTimeoutMillis).open(false);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA journal_mode=WAL")) {
      rs.next();
      if (!"wal".equalsIgnoreCase(rs.getString(1))) {
        throw new IOException("could not switch " + db + " to WAL mode (journal_mode is " + rs.getString(1) + ")");
      }
    } catch (SQLException e) {
      throw new IOException("switch " + db + " to WAL mode: " + e.getMessage(), e);
    }
  }

  private Connection open(boolean readOnly) throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setReadOnly(readOnly);
    cfg.setBusyTimeout(busyTimeoutMillis);
    Connection c = cfg.createConnection("jdbc:sqlite:" + db);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA cache_size=16"); // capture reads pages itself; SQLite needs almost no cache here
    }
    return c;
  }

  private static boolean isBusy(SQLException e) {
    if (!(e instanceof SQLiteException se)) return false;
    int primary = se.getResultCode().code & 0xFF; // extended codes (BUSY_SNAPSHOT …) share the low byte
    return primary == SQLiteErrorCode.SQLITE_BUSY.code || primary == SQLiteErrorCode.SQLITE_LOCKED.code;
  }

  private IOException failure(String what, SQLException e) {
    return new IOException(db + ": " + what + ": " + e.getMessage(), e);
  }

  private static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException e) {
      // already broken
    }
  }

  /** Ends the read transaction and closes the connections, read-write ones first. */
  @Override
  public synchronized void close() {
    closeQuietly(writer);
    closeQuietly(checkpointer);
    writer = checkpointer = null;
    if (current >= 0) breaks++;
    current = -1;
    for (int i = 0; i < readers.length; i++) {
      closeQuietly(readers[i]);
      readers[i] = null;
    }
    if (shm != null) {
      try {
        shm.close(); // after the connections: see the field's comment
      } catch (IOException e) {
        // read-only: nothing to lose
      }
      shm = null;
    }
  }
}
