package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * The LTX database checksum of a SQLite database that may be in use: its file overlaid with the committed frames of
 * its WAL, read while a read transaction holds the WAL in place (no checkpoint can restart it meanwhile). Only
 * frames whose salts and cumulative checksums hold, up to the last commit frame, count — as SQLite itself reads.
 */
final class LiveDatabase {
  private LiveDatabase() {}

  /** What was read. */
  record State(int pageSize, long pages, long checksum) {}

  static State checksum(Path db) throws IOException {
    if (!Files.isRegularFile(db)) throw new java.nio.file.NoSuchFileException(db.toString());
    String url = "jdbc:sqlite:file:" + db.toAbsolutePath().toUri().getRawPath() + "?mode=ro";
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("BEGIN");
      s.executeQuery("SELECT count(*) FROM sqlite_master").close(); // takes the read lock / WAL read mark
      try {
        return read(db);
      } finally {
        s.execute("COMMIT");
      }
    } catch (SQLException e) {
      throw new IOException("cannot read " + db + ": " + e.getMessage(), e);
    }
  }

  private static State read(Path db) throws IOException {
    try (FileChannel file = FileChannel.open(db, StandardOpenOption.READ)) {
      ByteBuffer h = ByteBuffer.allocate(100);
      readFully(file, h, 0);
      int ps = h.getShort(16) & 0xFFFF;
      int pageSize = ps == 1 ? 65536 : ps;
      long pages = file.size() / pageSize;
      if (h.getInt(92) == h.getInt(24) && h.getInt(28) != 0) pages = Integer.toUnsignedLong(h.getInt(28));
      Map<Long, Long> frames = new HashMap<>(); // pgno -> offset of the newest committed copy in the WAL
      Path walPath = db.resolveSibling(db.getFileName() + "-wal");
      FileChannel wal = Files.exists(walPath) ? FileChannel.open(walPath, StandardOpenOption.READ) : null;
      try {
        if (wal != null) {
          long walPages = committedFrames(wal, pageSize, frames);
          if (walPages > 0) pages = walPages;
        }
        int lock = LtxHeader.lockPgno(pageSize);
        long sum = Checksum.EMPTY_DATABASE;
        byte[] page = new byte[pageSize];
        for (long pgno = 1; pgno <= pages; pgno++) {
          if (pgno == lock) continue;
          Long off = frames.get(pgno);
          ByteBuffer b = ByteBuffer.wrap(page);
          if (off != null) readFully(wal, b, off);
          else readFully(file, b, (pgno - 1) * pageSize);
          sum = Checksum.roll(sum, 0, Checksum.ofPage((int) pgno, page));
        }
        return new State(pageSize, pages, sum);
      } finally {
        if (wal != null) wal.close();
      }
    }
  }

  /**
   * Indexes the WAL's valid committed frames; returns the database size in pages after the last commit, or 0 when
   * the WAL holds no valid commit.
   */
  private static long committedFrames(FileChannel wal, int pageSize, Map<Long, Long> frames) throws IOException {
    if (wal.size() < 32) return 0;
    ByteBuffer hdr = ByteBuffer.allocate(32);
    readFully(wal, hdr, 0);
    int magic = hdr.getInt(0);
    if (magic != 0x377f0682 && magic != 0x377f0683) return 0;
    boolean bigEndian = magic == 0x377f0683;
    if (hdr.getInt(8) != pageSize) return 0;
    int[] s = {0, 0};
    sum(hdr.array(), 0, 24, bigEndian, s);
    if (s[0] != hdr.getInt(24) || s[1] != hdr.getInt(28)) return 0;
    int salt1 = hdr.getInt(16), salt2 = hdr.getInt(20);
    long frameSize = 24L + pageSize, commitPages = 0;
    Map<Long, Long> pending = new HashMap<>();
    ByteBuffer frame = ByteBuffer.allocate((int) frameSize);
    for (long off = 32; off + frameSize <= wal.size(); off += frameSize) {
      frame.clear();
      readFully(wal, frame, off);
      byte[] f = frame.array();
      if (frame.getInt(8) != salt1 || frame.getInt(12) != salt2) break;
      sum(f, 0, 8, bigEndian, s);
      sum(f, 24, pageSize, bigEndian, s);
      if (s[0] != frame.getInt(16) || s[1] != frame.getInt(20)) break;
      pending.put(Integer.toUnsignedLong(frame.getInt(0)), off + 24);
      int commit = frame.getInt(4);
      if (commit != 0) {
        frames.putAll(pending);
        pending.clear();
        commitPages = Integer.toUnsignedLong(commit);
      }
    }
    return commitPages;
  }

  /** SQLite's WAL checksum: pairs of 32-bit words in the WAL's byte order, accumulated into {@code s}. */
  private static void sum(byte[] b, int off, int len, boolean bigEndian, int[] s) {
    ByteBuffer buf = ByteBuffer.wrap(b, off, len).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    int s0 = s[0], s1 = s[1];
    for (int i = off; i < off + len; i += 8) {
      s0 += buf.getInt(i) + s1;
      s1 += buf.getInt(i + 4) + s0;
    }
    s[0] = s0;
    s[1] = s1;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) throw new java.io.EOFException("unexpected end of file");
    }
  }
}
