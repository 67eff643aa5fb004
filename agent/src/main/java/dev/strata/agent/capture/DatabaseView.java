package dev.strata.agent.capture;

import dev.strata.replica.wal.WalHeader;
import dev.strata.replica.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * The database as SQLite's readers see it at a WAL frame: each page from its latest frame at or before that frame,
 * otherwise from the database file, and zeros past the end of the file.
 *
 * <p>This view is consistent only while a read transaction is held whose read mark is at or before the frame
 * (checkpoints then copy no frame past it into the database file) and while the WAL generation is unchanged.
 */
final class DatabaseView {
  private final FileChannel dbFile;
  private final WalReader wal; // null when no WAL frame is part of the view
  private final WalHeader header;
  private final PageMap index;

  DatabaseView(FileChannel dbFile, WalReader wal, WalHeader header, PageMap index) {
    this.dbFile = dbFile;
    this.wal = wal;
    this.header = header;
    this.index = index;
  }

  /** Reads page {@code pgno} into {@code page} (one page long). */
  void readPage(int pgno, byte[] page) throws IOException {
    long frame = wal == null ? 0 : index.frame(pgno);
    if (frame > 0) {
      wal.readPage(header, frame, page);
      return;
    }
    ByteBuffer b = ByteBuffer.wrap(page);
    long offset = (long) (pgno - 1) * page.length;
    while (b.hasRemaining()) {
      int n = dbFile.read(b, offset + b.position());
      if (n < 0) {
        Arrays.fill(page, b.position(), page.length, (byte) 0);
        return;
      }
    }
  }
}
