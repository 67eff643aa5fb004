package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import dev.strata.replica.wal.WalException;
import dev.strata.replica.wal.WalHeader;
import dev.strata.replica.wal.WalReader;
import dev.strata.replica.wal.WalScan;
import java.io.IOException;
import java.nio.ByteBuffer;
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
    try (FileChannel file = FileChannel.open(db, StandardOpenOption.READ);
        WalReader wal = WalReader.open(db.resolveSibling(db.getFileName() + "-wal"))) {
      ByteBuffer h = ByteBuffer.allocate(100);
      readFully(file, h, 0);
      int ps = h.getShort(16) & 0xFFFF;
      int pageSize = ps == 1 ? 65536 : ps;
      long pages = file.size() / pageSize;
      if (h.getInt(92) == h.getInt(24) && h.getInt(28) != 0) pages = Integer.toUnsignedLong(h.getInt(28));
      // The WAL's valid committed frames, as SQLite reads them: the newest copy of each page wins.
      WalHeader walHeader = validHeader(wal, pageSize);
      Map<Integer, Long> frames = new HashMap<>(); // pgno -> frame of its newest committed copy
      if (walHeader != null) {
        WalScan scan = wal.scan(walHeader, 0, walHeader.checksum());
        if (scan.hasCommits()) {
          for (long n = 1; n <= scan.endFrame(); n++) frames.put(scan.pgno(n), n);
          pages = Integer.toUnsignedLong(scan.commitSize());
        }
      }
      int lock = LtxHeader.lockPgno(pageSize);
      long sum = Checksum.EMPTY_DATABASE;
      byte[] page = new byte[pageSize];
      for (long pgno = 1; pgno <= pages; pgno++) {
        if (pgno == lock) continue;
        Long frame = frames.get((int) pgno);
        if (frame != null) wal.readPage(walHeader, frame, page);
        else readFully(file, ByteBuffer.wrap(page), (pgno - 1) * pageSize);
        sum = Checksum.roll(sum, 0, Checksum.ofPage((int) pgno, page));
      }
      return new State(pageSize, pages, sum);
    }
  }

  /** The WAL's header when it is valid and for this page size; null when SQLite would ignore the WAL. */
  private static WalHeader validHeader(WalReader wal, int pageSize) throws IOException {
    try {
      WalHeader h = wal.readHeader();
      return h != null && h.pageSize() == pageSize ? h : null;
    } catch (WalException e) {
      return null;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) throw new java.io.EOFException("unexpected end of file");
    }
  }
}
