package dev.strata.replica.follow;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.TreeSet;

/**
 * A SQLite database file that this process changes page by page while other processes read it through SQLite,
 * with SQLite's own rollback-journal commit protocol (sqlite.org/atomiccommit.html, sqlite.org/fileformat2.html):
 *
 * <ol>
 *   <li>RESERVED lock (no other writer; a hot journal is not hot while it is held);
 *   <li>the original content of every page about to change is written to {@code <db>-journal} in SQLite's format
 *       and fsynced, with the directory;
 *   <li>PENDING then EXCLUSIVE lock (new readers wait, then the readers in progress have finished);
 *   <li>pages written, file truncated or extended, fsync;
 *   <li>the journal is truncated to zero bytes (as journal_mode=TRUNCATE): the commit point; the locks are released.
 * </ol>
 *
 * <p>Readers are ordinary SQLite connections in rollback-journal mode: they take a SHARED lock per read
 * transaction, so they see the database before or after a batch, never between; they wait (SQLITE_BUSY, retried by
 * their busy handler) only while step 4 runs. A process killed between steps 2 and 5 leaves a hot journal that the
 * next SQLite connection able to write (or {@link #open} here) plays back, so the file passes {@code
 * integrity_check} at any moment. The locks are the POSIX record locks of SQLite's unix VFS on the bytes at
 * {@link LtxHeader#PENDING_BYTE}, taken with {@link FileChannel#lock}, which uses the same {@code fcntl} locks.
 *
 * <p>Page 1 is written in "legacy" form (file format bytes 18–19 = 1, so that no reader switches the file to WAL
 * mode) with a change counter (bytes 24–27, 92–95) that grows with every batch so that readers drop their page
 * cache, and the page count in bytes 28–31. The first 100 bytes the source had are kept by the caller, so that the
 * database checksum of the source can be checked ({@link #logicalPage1}).
 *
 * <p>POSIX locks belong to the process and are all dropped when any descriptor of the file is closed: this class
 * holds the only descriptor this process opens on the database, for as long as it is open.
 */
public final class JournaledDatabase implements AutoCloseable {
  static final byte[] JOURNAL_MAGIC = {(byte) 0xd9, (byte) 0xd5, 0x05, (byte) 0xf9, 0x20, (byte) 0xa1, 0x63,
      (byte) 0xd7};
  static final int SECTOR = 512;
  static final long PENDING = LtxHeader.PENDING_BYTE;
  static final long RESERVED = PENDING + 1;
  static final long SHARED_FIRST = PENDING + 2;
  static final int SHARED_SIZE = 510;
  /** How long the PENDING lock is held while waiting for readers before it is let go for a while. */
  private static final long PENDING_HOLD_NANOS = 20_000_000L;
  /** After this long without getting in, PENDING is held until the readers in progress finish (as SQLite does). */
  private static final long STARVATION_NANOS = 2_000_000_000L;

  private final Path path;
  private final Path journal;
  private final FileChannel ch;
  private final int pageSize;

  private JournaledDatabase(Path path, FileChannel ch, int pageSize) {
    this.path = path;
    this.journal = path.resolveSibling(path.getFileName() + "-journal");
    this.ch = ch;
    this.pageSize = pageSize;
  }

  /**
   * Opens the database for writing; a hot journal left by a killed writer is played back first (under the
   * EXCLUSIVE lock, as SQLite would).
   */
  public static JournaledDatabase open(Path path, int pageSize) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    JournaledDatabase db = new JournaledDatabase(path, ch, pageSize);
    try {
      db.recover();
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    return db;
  }

  public int pageSize() {
    return pageSize;
  }

  /** Pages in the file. */
  public int pageCount() throws IOException {
    return (int) (ch.size() / pageSize);
  }

  /** Reads page {@code pgno} (a page past the end reads as zeros). */
  public void readPage(int pgno, byte[] buf) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(buf, 0, pageSize);
    long pos = (long) (pgno - 1) * pageSize;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        while (b.hasRemaining()) b.put((byte) 0);
      }
    }
  }

  /**
   * The checksum the source database has when this file holds its pages: page 1's first 100 bytes are the
   * source's ({@code sourceHeader}); the lock page does not count.
   */
  public long logicalChecksum(byte[] sourceHeader) throws IOException {
    int n = pageCount();
    int lock = LtxHeader.lockPgno(pageSize);
    long sum = Checksum.EMPTY_DATABASE;
    byte[] page = new byte[pageSize];
    for (int p = 1; p <= n; p++) {
      if (p == lock) continue;
      readPage(p, page);
      if (p == 1) logicalPage1(page, sourceHeader);
      sum = Checksum.roll(sum, 0, Checksum.ofPage(p, page));
    }
    return sum;
  }

  /** Puts the source's first 100 bytes back into page 1 as read from this file. */
  public static void logicalPage1(byte[] page1, byte[] sourceHeader) {
    System.arraycopy(sourceHeader, 0, page1, 0, 100);
  }

  /** Turns a source page 1 into the form written here: legacy file format, our change counter, page count. */
  public static void physicalPage1(byte[] page1, int changeCounter, int commit) {
    page1[18] = 1;
    page1[19] = 1;
    putInt(page1, 24, changeCounter);
    putInt(page1, 28, commit);
    putInt(page1, 92, changeCounter);
  }

  /** The change counter in a page 1 read from this file. */
  public static int changeCounter(byte[] page1) {
    return getInt(page1, 24);
  }

  /** The pages of one batch. */
  public interface Pages {
    /** Page numbers to write, ascending, none above {@code commit}, page 1 always included. */
    int[] pgnos();

    /** Reads the new content of page {@code pgno} (page 1 already in physical form). */
    void read(int pgno, byte[] buf) throws IOException;
  }

  /**
   * Applies one batch atomically: after it the file has {@code commit} pages and the given content. Returns
   * normally once committed (journal deleted); on an exception before the commit point nothing is visible to
   * readers, and the journal, if any, is played back by the next opener.
   *
   * @param beforeWrite called with the journal written and before any page of the database changes (to record
   *     that this batch is pending); may throw to abandon the batch
   */
  public void apply(Pages pages, int commit, Runnable beforeWrite) throws IOException {
    int[] pgnos = pages.pgnos();
    try (FileLock reserved = ch.lock(RESERVED, 1, false)) {
      int orig = pageCount();
      TreeSet<Integer> journaled = new TreeSet<>();
      for (int p : pgnos) if (p <= orig) journaled.add(p);
      for (int p = commit + 1; p <= orig; p++) journaled.add(p);
      int lock = LtxHeader.lockPgno(pageSize);
      journaled.remove(lock);
      writeJournal(journaled, orig);
      beforeWrite.run();
      FileLock[] exclusive = exclusive();
      try {
        byte[] page = new byte[pageSize];
        for (int p : pgnos) {
          if (p == lock) continue;
          pages.read(p, page);
          ByteBuffer b = ByteBuffer.wrap(page);
          long pos = (long) (p - 1) * pageSize;
          while (b.hasRemaining()) ch.write(b, pos + b.position());
        }
        if (commit < orig) ch.truncate((long) commit * pageSize);
        ch.force(false);
        truncateJournal(); // the commit point
      } finally {
        exclusive[1].release();
        exclusive[0].release();
      }
    }
  }

  /** The original content of {@code pgnos}, in SQLite's rollback-journal format, fsynced with its directory. */
  private void writeJournal(TreeSet<Integer> pgnos, int orig) throws IOException {
    int nonce = new SecureRandom().nextInt();
    boolean created = !Files.exists(journal); // kept between batches: its directory entry is synced once
    try (FileChannel j = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer h = ByteBuffer.allocate(SECTOR);
      h.put(JOURNAL_MAGIC).putInt(pgnos.size()).putInt(nonce).putInt(orig).putInt(SECTOR).putInt(pageSize);
      h.clear();
      write(j, h);
      ByteBuffer rec = ByteBuffer.allocate(4 + pageSize + 4);
      byte[] page = new byte[pageSize];
      for (int p : pgnos) {
        readPage(p, page);
        rec.clear();
        rec.putInt(p).put(page).putInt(journalChecksum(nonce, page, pageSize));
        rec.flip();
        write(j, rec);
      }
      j.force(true);
    }
    if (created) FileReplicaClient.fsyncDirectory(path.toAbsolutePath().getParent());
  }

  /** SQLite's journal record checksum: the nonce plus every 200th byte counting back from the end. */
  static int journalChecksum(int nonce, byte[] page, int pageSize) {
    int sum = nonce;
    for (int i = pageSize - 200; i > 0; i -= 200) sum += page[i] & 0xff;
    return sum;
  }

  private static void write(FileChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) c.write(b);
  }

  /**
   * PENDING then the EXCLUSIVE range. PENDING is held at most {@link #PENDING_HOLD_NANOS} at a time while readers
   * are still in, then let go so that new readers are not kept waiting behind a long one; after
   * {@link #STARVATION_NANOS} it is kept until they are out.
   */
  private FileLock[] exclusive() throws IOException {
    long start = System.nanoTime();
    while (true) {
      FileLock pending = ch.tryLock(PENDING, 1, false);
      if (pending != null) {
        long got = System.nanoTime();
        boolean starving = got - start > STARVATION_NANOS;
        while (true) {
          FileLock shared = ch.tryLock(SHARED_FIRST, SHARED_SIZE, false);
          if (shared != null) return new FileLock[] {pending, shared};
          if (!starving && System.nanoTime() - got > PENDING_HOLD_NANOS) break;
          pause(200_000);
        }
        pending.release();
      }
      pause(2_000_000);
    }
  }

  private static void pause(long nanos) throws InterruptedIOException {
    try {
      Thread.sleep(java.time.Duration.ofNanos(nanos));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for SQLite readers to finish");
    }
  }

  /** Plays back a hot journal left by a killed writer, as SQLite does; a journal that is not hot is deleted. */
  private void recover() throws IOException {
    if (!Files.exists(journal) || Files.size(journal) == 0) return;
    try (FileLock reserved = ch.lock(RESERVED, 1, false)) {
      if (!Files.exists(journal) || Files.size(journal) == 0) return; // a reader rolled it back meanwhile
      FileLock[] exclusive = exclusive();
      try (FileChannel j = FileChannel.open(journal, StandardOpenOption.READ)) {
        ByteBuffer h = ByteBuffer.allocate(SECTOR);
        readFully(j, h, 0);
        byte[] magic = new byte[8];
        h.get(0, magic);
        if (j.size() >= 28 && java.util.Arrays.equals(magic, JOURNAL_MAGIC)) {
          int nRec = h.getInt(8);
          int nonce = h.getInt(12);
          int orig = h.getInt(16);
          int sector = h.getInt(20);
          int jPageSize = h.getInt(24);
          if (jPageSize != pageSize) throw new IOException("journal " + journal + " has page size " + jPageSize);
          long pos = sector;
          ByteBuffer rec = ByteBuffer.allocate(4 + pageSize + 4);
          byte[] page = new byte[pageSize];
          for (int i = 0; i < nRec && pos + rec.capacity() <= j.size(); i++, pos += rec.capacity()) {
            rec.clear();
            readFully(j, rec, pos);
            int pgno = rec.getInt(0);
            rec.get(4, page);
            if (rec.getInt(4 + pageSize) != journalChecksum(nonce, page, pageSize)) break;
            ByteBuffer b = ByteBuffer.wrap(page);
            while (b.hasRemaining()) ch.write(b, (long) (pgno - 1) * pageSize + b.position());
          }
          ch.truncate((long) orig * pageSize);
          ch.force(false);
        }
      } finally {
        truncateJournal();
        exclusive[1].release();
        exclusive[0].release();
      }
    }
  }

  /**
   * Commits (as SQLite's journal_mode=TRUNCATE does): the journal is cut to zero bytes and kept. Deleting it
   * instead would race with read-only readers: one that saw the journal exist, then finds the RESERVED lock free
   * and cannot open the journal, takes it for hot and fails with SQLITE_READONLY_ROLLBACK; an empty journal is
   * never hot.
   */
  private void truncateJournal() throws IOException {
    try (FileChannel j = FileChannel.open(journal, StandardOpenOption.WRITE)) {
      j.truncate(0);
      j.force(false);
    } catch (java.nio.file.NoSuchFileException e) {
      // played back and deleted by a reader
    }
  }

  private static void readFully(FileChannel c, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      if (c.read(b, pos + b.position()) < 0) break;
    }
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static int getInt(byte[] b, int off) {
    return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
