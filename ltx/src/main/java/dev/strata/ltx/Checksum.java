package dev.strata.ltx;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;

/**
 * LTX checksums: every stored checksum carries {@link #FLAG} so that a valid one is never zero.
 *
 * <p>The database checksum is the XOR of the page checksums of every page but the lock page; XOR makes it
 * maintainable page by page ({@link #roll}).
 */
public final class Checksum {
  /** Bit 63, set on every stored checksum; zero alone means "absent". */
  public static final long FLAG = 0x8000000000000000L;

  /** Database checksum of an empty database (commit 0). */
  public static final long EMPTY_DATABASE = FLAG;

  private Checksum() {}

  /** {@code FLAG | CRC64(be32(pgno) ‖ data[off, off+len))}. */
  public static long ofPage(int pgno, byte[] data, int off, int len) {
    return FLAG | pageCrc(pgno, data, off, len);
  }

  /**
   * {@code CRC64(be32(pgno) ‖ data[off, off+len))}: what an LTX page frame's CRC is, and its page checksum without
   * the flag. A writer that needs both computes it once ({@link LtxEncoder#encodePage(int, byte[], int, long)}).
   */
  public static long pageCrc(int pgno, byte[] data, int off, int len) {
    byte[] pg = {(byte) (pgno >>> 24), (byte) (pgno >>> 16), (byte) (pgno >>> 8), (byte) pgno};
    return Crc64.update(Crc64.update(0, pg, 0, 4), data, off, len);
  }

  /** Page checksum of a whole page array. */
  public static long ofPage(int pgno, byte[] page) {
    return ofPage(pgno, page, 0, page.length);
  }

  /** Rolls a database checksum forward: removes {@code oldPage} (0 if the page is new) and adds {@code newPage}. */
  public static long roll(long database, long oldPage, long newPage) {
    return FLAG | (database ^ oldPage ^ newPage);
  }

  /** True when the value has the checksum flag set (a well-formed, present checksum). */
  public static boolean isValid(long checksum) {
    return (checksum & FLAG) != 0;
  }

  /** Lowercase 16-digit hex, the text form used in file names, JSON and metadata. */
  public static String format(long checksum) {
    return HexFormat.of().toHexDigits(checksum);
  }

  /** Parses exactly 16 hex digits. */
  public static long parse(String text) {
    return Txid.parseHex16(text, "checksum");
  }

  /** The JSON form: a string of 16 hex digits, as Go marshals {@code ltx.Checksum}. */
  public static String toJson(long checksum) {
    return '"' + format(checksum) + '"';
  }

  /** Parses the JSON form; {@code null} reads as 0, any value other than a string is an error (as in Go). */
  public static long parseJson(String json) {
    return Txid.parseJsonHex16(json, "checksum");
  }

  /**
   * The database checksum of a raw SQLite database file read to its end: every page but the lock page. A partial
   * last page is an error.
   */
  public static long ofDatabase(InputStream in, int pageSize) throws IOException {
    if (!LtxHeader.isValidPageSize(pageSize)) throw new IllegalArgumentException("invalid page size: " + pageSize);
    int lockPgno = LtxHeader.lockPgno(pageSize);
    byte[] page = new byte[pageSize];
    long database = EMPTY_DATABASE;
    for (int pgno = 1; ; pgno++) {
      int n = in.readNBytes(page, 0, pageSize);
      if (n == 0) return database;
      if (n < pageSize) throw new EOFException("database ends inside page " + Integer.toUnsignedString(pgno));
      if (pgno != lockPgno) database = roll(database, 0, ofPage(pgno, page));
    }
  }
}
