package dev.strata.replica.litestream;

import dev.strata.replica.wal.WalChecksum;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Applies one SQLite WAL file (one Litestream 0.3 WAL index: its segments in offset order) to a database file:
 * the 32-byte header is checked (magic, version, page size, header checksum), then every frame's salts and the
 * cumulative frame checksum, and each frame's page is written at its place; a commit frame sets the database size.
 * A WAL that ends inside a transaction, or any checksum or salt that does not hold, is an error: a WAL segment from
 * a Litestream replica holds committed transactions only, so nothing may be dropped silently.
 */
final class WalApplier {
  static final int HEADER = 32, FRAME_HEADER = 24;
  private static final int MAGIC_LE = 0x377f0682, MAGIC_BE = 0x377f0683;

  private final FileChannel db;
  private final int pageSize;
  private final byte[] header = new byte[HEADER];
  private final byte[] frame;
  private int headerFill;
  private int frameFill;
  private boolean bigEndian;
  private int salt1, salt2;
  private long sum; // the cumulative WAL checksum, packed as WalChecksum keeps it
  private long offset; // bytes of this WAL consumed
  private long commitPages = -1; // database size after the last commit applied, -1 before any
  private long frames, framesSinceCommit;
  private java.util.BitSet touched; // pages written, when asked for

  /** Records the page numbers written from now on into {@code pages} (null: stop). */
  void track(java.util.BitSet pages) {
    this.touched = pages;
  }

  private final PageSums sums; // null: not kept

  WalApplier(FileChannel db, int pageSize) {
    this(db, pageSize, null);
  }

  WalApplier(FileChannel db, int pageSize, PageSums sums) {
    this.sums = sums;
    this.db = db;
    this.pageSize = pageSize;
    this.frame = new byte[FRAME_HEADER + pageSize];
  }

  /** Bytes of the WAL consumed so far: the offset the next segment must start at. */
  long offset() {
    return offset;
  }

  /** Frames applied. */
  long frames() {
    return frames;
  }

  /** The database size in pages after the last commit frame; -1 when no commit was seen. */
  long commitPages() {
    return commitPages;
  }

  /** True when the bytes fed so far end exactly at a commit frame (or hold only the header). */
  boolean atCommit() {
    return headerFill == HEADER && frameFill == 0 && framesSinceCommit == 0;
  }

  /** Feeds the next bytes of the WAL; {@code where} names the segment for errors. */
  void feed(byte[] b, int off, int len, String where) throws IOException {
    while (len > 0) {
      if (headerFill < HEADER) {
        int n = Math.min(len, HEADER - headerFill);
        System.arraycopy(b, off, header, headerFill, n);
        headerFill += n;
        off += n;
        len -= n;
        offset += n;
        if (headerFill == HEADER) readHeader(where);
        continue;
      }
      int n = Math.min(len, frame.length - frameFill);
      System.arraycopy(b, off, frame, frameFill, n);
      frameFill += n;
      off += n;
      len -= n;
      offset += n;
      if (frameFill == frame.length) {
        applyFrame(where);
        frameFill = 0;
      }
    }
  }

  private void readHeader(String where) throws IOException {
    ByteBuffer h = ByteBuffer.wrap(header);
    int magic = h.getInt(0);
    if (magic != MAGIC_LE && magic != MAGIC_BE) {
      throw new IOException(where + ": not a SQLite WAL (bad magic " + String.format("0x%08x", magic) + ")");
    }
    bigEndian = magic == MAGIC_BE;
    int version = h.getInt(4);
    if (version != 3007000) throw new IOException(where + ": unsupported WAL version " + version);
    int ps = h.getInt(8);
    if (ps != pageSize) {
      throw new IOException(where + ": WAL page size " + ps + " differs from the snapshot's " + pageSize);
    }
    salt1 = h.getInt(16);
    salt2 = h.getInt(20);
    sum = 0;
    checksum(header, 0, 24);
    if (sum != WalChecksum.of(h.getInt(24), h.getInt(28))) throw new IOException(where + ": WAL header checksum mismatch");
  }

  private void applyFrame(String where) throws IOException {
    ByteBuffer f = ByteBuffer.wrap(frame);
    int pgno = f.getInt(0);
    int commit = f.getInt(4);
    long at = offset - frame.length;
    if (f.getInt(8) != salt1 || f.getInt(12) != salt2) {
      throw new IOException(where + ": WAL frame at offset " + at + " has salts that differ from the WAL header's");
    }
    checksum(frame, 0, 8);
    checksum(frame, FRAME_HEADER, pageSize);
    if (sum != WalChecksum.of(f.getInt(16), f.getInt(20))) {
      throw new IOException(where + ": WAL frame checksum mismatch at offset " + at);
    }
    if (pgno == 0) throw new IOException(where + ": WAL frame at offset " + at + " has page number 0");
    ByteBuffer page = ByteBuffer.wrap(frame, FRAME_HEADER, pageSize);
    long pos = (Integer.toUnsignedLong(pgno) - 1) * pageSize;
    while (page.hasRemaining()) db.write(page, pos + page.position() - FRAME_HEADER);
    if (touched != null) touched.set(pgno);
    if (sums != null) sums.set(pgno, frame, FRAME_HEADER, pageSize);
    frames++;
    framesSinceCommit++;
    if (commit != 0) {
      commitPages = Integer.toUnsignedLong(commit);
      // The file is cut to the database size once, in finish(): a database that shrinks and grows again writes
      // every page it grows by, so pages left past a commit's end are overwritten before they count.
      if (sums != null) sums.truncate(commitPages);
      framesSinceCommit = 0;
    }
  }

  /** Continues the WAL checksum over {@code len} bytes (a multiple of 8), in the byte order the magic names. */
  private void checksum(byte[] b, int off, int len) {
    sum = WalChecksum.update(sum, b, off, len, bigEndian);
  }

  /** Checks that the WAL ended at a commit, and cuts the database to its size there. */
  void finish(String where) throws IOException {
    if (commitPages >= 0 && db.size() != commitPages * pageSize) db.truncate(commitPages * pageSize);
    if (headerFill > 0 && headerFill < HEADER) throw new EOFException(where + ": WAL header truncated");
    if (frameFill != 0) throw new IOException(where + ": WAL ends inside a frame (" + frameFill + " bytes)");
    if (framesSinceCommit != 0) {
      throw new IOException(where + ": WAL ends inside a transaction (" + framesSinceCommit
          + " frames after the last commit)");
    }
  }
}
