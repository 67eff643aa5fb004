package dev.strata.agent.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The fields capture needs from the 100-byte header of a SQLite database file (fileformat2.html §1.3).
 *
 * @param writeVersion 1 for rollback-journal databases, 2 for WAL
 */
public record SqliteHeader(int pageSize, int writeVersion, int readVersion) {
  private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  /** True when the database is in WAL mode. */
  public boolean isWal() {
    return writeVersion == 2 && readVersion == 2;
  }

  /**
   * Reads the header through an open channel (never open and close a descriptor of a database SQLite has open in
   * this process: closing it drops SQLite's POSIX locks). Throws {@link IllegalArgumentException} when the file is
   * not a SQLite database.
   */
  public static SqliteHeader read(FileChannel ch, Path path) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(100);
    while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
      // read the whole header
    }
    if (b.position() < 100 || !Arrays.equals(b.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new IllegalArgumentException(path + " is not a SQLite database");
    }
    int raw = b.getShort(16) & 0xFFFF;
    int pageSize = raw == 1 ? 65536 : raw;
    if (pageSize < 512 || Integer.bitCount(pageSize) != 1) {
      throw new IllegalArgumentException(path + " is not a SQLite database (invalid page size " + raw + ")");
    }
    return new SqliteHeader(pageSize, b.get(18) & 0xFF, b.get(19) & 0xFF);
  }
}
