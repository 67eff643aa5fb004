package dev.strata.ltx;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes one LTX v1 file as a stream: the header, then pages in order, then {@link #finish}. Memory use does not
 * depend on the number of pages. Enforces the encoder rules of spec §1.4 so that only valid files are written.
 */
public final class LtxEncoder {
  private final OutputStream raw;
  private final OutputStream pages; // raw, or an LZ4 frame over raw
  private final Lz4FrameWriter lz4;
  private final LtxHeader header;
  private final int lockPgno;
  private final Crc64.Appender pageFrameAppender;
  private final byte[] pgnoBytes = new byte[4];
  private long fileCrc; // CRC of the logical (uncompressed) stream so far: what the trailer's file checksum covers
  private long pagesChecksum; // XOR of the page CRCs written
  private int lastPgno;
  private long pageCount;
  private LtxTrailer trailer; // set by finish

  /** Validates and writes the header. The target is not closed by this encoder. */
  public LtxEncoder(OutputStream out, LtxHeader header) throws IOException {
    header.validate();
    this.header = header;
    this.lockPgno = header.lockPgno();
    this.pageFrameAppender = Crc64.appenderForPage(header.pageSize());
    this.raw = new BufferedOutputStream(out, 64 * 1024);
    byte[] h = header.encode();
    raw.write(h);
    fileCrc = Crc64.update(0, h, 0, h.length);
    if (header.isCompressed()) {
      lz4 = new Lz4FrameWriter(raw);
      pages = lz4;
    } else {
      lz4 = null;
      pages = raw;
    }
  }

  /** The header written. */
  public LtxHeader header() {
    return header;
  }

  /** Writes one page; {@code data} holds the page at offset 0. */
  public void encodePage(int pgno, byte[] data) throws IOException {
    encodePage(pgno, data, 0);
  }

  /** Writes one page of {@code header().pageSize()} bytes starting at {@code off}. */
  public void encodePage(int pgno, byte[] data, int off) throws IOException {
    checkPage(pgno, data, off);
    putIntBE(pgnoBytes, pgno);
    writePage(pgno, data, off, Crc64.update(Crc64.update(0, pgnoBytes, 0, 4), data, off, header.pageSize()));
  }

  /**
   * Writes a page whose CRC of be32(pgno) ‖ page is already known ({@link LtxDecoder#pageCrc()}, {@link
   * Checksum#pageCrc}), sparing a second pass over the data. A wrong CRC makes a file that fails verification.
   */
  public void encodePage(int pgno, byte[] data, int off, long pageCrc) throws IOException {
    checkPage(pgno, data, off);
    putIntBE(pgnoBytes, pgno);
    writePage(pgno, data, off, pageCrc);
  }

  private void checkPage(int pgno, byte[] data, int off) throws LtxException {
    if (trailer != null) throw new LtxException("ltx encoder closed");
    checkPageNumber(pgno);
    int ps = header.pageSize();
    if (data.length - off < ps) {
      throw new LtxException("invalid page buffer size: " + (data.length - off) + ", expecting " + ps);
    }
  }

  private void writePage(int pgno, byte[] data, int off, long pageCrc) throws IOException {
    pages.write(pgnoBytes);
    pages.write(data, off, header.pageSize());
    // The frame pgno ‖ page is exactly what the page checksum covers, so its CRC extends the file CRC too.
    fileCrc = pageFrameAppender.append(fileCrc, pageCrc);
    pagesChecksum ^= pageCrc;
    lastPgno = pgno;
    pageCount++;
  }

  private void checkPageNumber(int pgno) throws LtxException {
    long p = Integer.toUnsignedLong(pgno);
    if (p == 0) throw new LtxException("page number required");
    if (p > Integer.toUnsignedLong(header.commit())) {
      throw new LtxException("page number " + p + " out-of-bounds for commit size "
          + Integer.toUnsignedLong(header.commit()));
    }
    if (pgno == lockPgno) throw new LtxException("cannot encode lock page: pgno=" + p);
    if (header.isSnapshot()) {
      if (lastPgno == 0 && pgno != 1) throw new LtxException("snapshot transaction file must start with page number 1");
      if (lastPgno != 0 && lastPgno == lockPgno - 1 && pgno != lockPgno + 1) {
        throw new LtxException("nonsequential page numbers in snapshot transaction (skip lock page): "
            + Integer.toUnsignedString(lastPgno) + "," + p);
      }
      if (lastPgno != 0 && lastPgno != lockPgno - 1 && pgno != lastPgno + 1) {
        throw new LtxException("nonsequential page numbers in snapshot transaction: "
            + Integer.toUnsignedString(lastPgno) + "," + p);
      }
    } else if (lastPgno != 0 && Integer.compareUnsigned(pgno, lastPgno) <= 0) {
      throw new LtxException("out-of-order page numbers: " + Integer.toUnsignedString(lastPgno) + "," + p);
    }
  }

  /** Number of pages written so far. */
  public long pageCount() {
    return pageCount;
  }

  /**
   * {@code FLAG | XOR} of the checksums of the pages written: for a snapshot this is the database checksum, the
   * value its trailer must carry.
   */
  public long pagesChecksum() {
    return Checksum.FLAG | pagesChecksum;
  }

  /**
   * Writes the end of the page block and the trailer and flushes; returns the trailer. For a snapshot,
   * {@code postApplyChecksum} must equal {@link #pagesChecksum()}, and the pages must have reached the commit
   * (stricter than superfly/ltx, which checks neither). Calling it again with the same checksum returns the same
   * trailer, as Go's double {@code Close} is a no-op.
   */
  public LtxTrailer finish(long postApplyChecksum) throws IOException {
    if (trailer != null) {
      if (postApplyChecksum == trailer.postApplyChecksum()) return trailer;
      throw new LtxException("ltx encoder closed");
    }
    if (postApplyChecksum == 0) throw new LtxException("post-apply checksum required");
    if (!Checksum.isValid(postApplyChecksum)) throw new LtxException("invalid post-apply checksum format");
    if (header.commit() == 0 && postApplyChecksum != Checksum.EMPTY_DATABASE) {
      throw new LtxException("post-apply checksum must be empty for zero-length database");
    }
    if (header.isSnapshot()) {
      int last = header.commit() == lockPgno ? lockPgno - 1 : header.commit();
      if (lastPgno != last) {
        throw new LtxException("snapshot ends at page " + Integer.toUnsignedLong(lastPgno) + " but commit is "
            + Integer.toUnsignedLong(header.commit()));
      }
      if (postApplyChecksum != pagesChecksum()) {
        throw new LtxException("post-apply checksum " + Checksum.format(postApplyChecksum)
            + " does not match the snapshot's pages (" + Checksum.format(pagesChecksum()) + ")");
      }
    }
    byte[] end = new byte[4];
    pages.write(end);
    fileCrc = Crc64.update(fileCrc, end, 0, 4);
    if (lz4 != null) lz4.finish();
    byte[] post = new byte[8];
    for (int i = 0; i < 8; i++) post[i] = (byte) (postApplyChecksum >>> (56 - 8 * i));
    fileCrc = Crc64.update(fileCrc, post, 0, 8);
    LtxTrailer done = new LtxTrailer(postApplyChecksum, Checksum.FLAG | fileCrc);
    raw.write(done.encode());
    raw.flush();
    trailer = done;
    return done;
  }

  static void putIntBE(byte[] b, int v) {
    b[0] = (byte) (v >>> 24);
    b[1] = (byte) (v >>> 16);
    b[2] = (byte) (v >>> 8);
    b[3] = (byte) v;
  }
}
