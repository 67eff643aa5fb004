package dev.strata.server;

import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a plain SQLite database file (the body of {@code POST /db/upload}) into an LTX snapshot (spec §3.6). The
 * page size and page count come from the 100-byte database header; bytes past the page count are ignored.
 */
final class SqliteImport {
  private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private SqliteImport() {}

  /** Reads the database from {@code in} and writes it as an uncompressed LTX snapshot with TXID 1. */
  static void toLtx(InputStream in, OutputStream out, long timestamp) throws IOException {
    byte[] header = in.readNBytes(100);
    if (header.length < 100 || !Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new ApiException(ErrorCode.EBADHEADER, "invalid database header");
    }
    ByteBuffer b = ByteBuffer.wrap(header);
    int rawSize = Short.toUnsignedInt(b.getShort(16));
    int pageSize = rawSize == 1 ? 65536 : rawSize;
    if (!LtxHeader.isValidPageSize(pageSize)) throw new ApiException(ErrorCode.EBADHEADER, "invalid database header");
    long pageCount = Integer.toUnsignedLong(b.getInt(28));
    byte[] page = new byte[pageSize];
    System.arraycopy(header, 0, page, 0, 100);
    int got = 100 + in.readNBytes(page, 100, pageSize - 100);
    if (pageCount == 0) {
      throw new ApiException(ErrorCode.EBADHEADER, "invalid database header: no page count (written by SQLite"
          + " before 3.7.0? open and close it with a newer one)");
    }
    if (got < pageSize) throw new ApiException(ErrorCode.EBADINPUT, "read page 1: unexpected EOF");
    LtxHeader h = LtxHeader.of(0, pageSize, (int) pageCount, 1, 1, timestamp, 0);
    LtxEncoder enc = new LtxEncoder(out, h);
    int lock = h.lockPgno();
    enc.encodePage(1, page);
    for (long pgno = 2; pgno <= pageCount; pgno++) {
      if (in.readNBytes(page, 0, pageSize) < pageSize) {
        throw new ApiException(ErrorCode.EBADINPUT, "read page " + pgno + ": unexpected EOF");
      }
      if (pgno != lock) enc.encodePage((int) pgno, page);
    }
    enc.finish(enc.pagesChecksum());
  }
}
