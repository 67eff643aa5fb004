package dev.strata.ltx;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one LTX file as a stream: the header on construction, then pages with {@link #readPage}, then
 * {@link #finish()}, which reads the trailer and verifies the file checksum (and, for snapshots, the database
 * checksum). Memory use does not depend on the number of pages; nothing is trusted before its checksum holds, so
 * callers must not commit to what they read before {@code finish()} returns.
 */
public final class LtxDecoder implements AutoCloseable {
  private final InputStream raw;
  private final InputStream pages; // raw, or an LZ4 frame over raw
  private final LtxHeader header;
  private final int lockPgno;
  private final Crc64 fileCrc = new Crc64();
  private final byte[] pgnoBytes = new byte[4];
  private long pagesChecksum = Checksum.FLAG;
  private int lastPgno;
  private long pageCount;
  private boolean pagesDone;
  private LtxTrailer trailer;

  /** Reads and validates the header of a v1 file. */
  public LtxDecoder(InputStream in) throws IOException {
    this.raw = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 64 * 1024);
    byte[] h = new byte[LtxHeader.SIZE];
    int n = raw.readNBytes(h, 0, h.length);
    if (n == 0) throw new LtxException("decode header: empty file");
    if (n < h.length) throw new LtxException("decode header: truncated header (" + n + " of 100 bytes)");
    try {
      header = LtxHeader.decode(h);
      header.validate();
    } catch (LtxException e) {
      throw new LtxException("decode header: " + e.getMessage());
    }
    fileCrc.update(h);
    lockPgno = header.lockPgno();
    pages = header.isCompressed() ? wrapLz4(raw) : raw;
  }

  private static InputStream wrapLz4(InputStream raw) throws IOException {
    try {
      return new Lz4FrameReader(raw);
    } catch (EOFException e) {
      throw new LtxException("decode page block: unexpected end of file in lz4 frame header");
    }
  }

  /** The validated header. */
  public LtxHeader header() {
    return header;
  }

  /**
   * Reads the next page into {@code buf} (at least page-size long); returns its page number, or 0 at the end of
   * the page block.
   */
  public int readPage(byte[] buf) throws IOException {
    if (pagesDone) return 0;
    int ps = header.pageSize();
    try {
      Lz4FrameReader.readFully(pages, pgnoBytes, 4);
      fileCrc.update(pgnoBytes, 0, 4);
      int pgno = (pgnoBytes[0] & 0xFF) << 24 | (pgnoBytes[1] & 0xFF) << 16 | (pgnoBytes[2] & 0xFF) << 8
          | (pgnoBytes[3] & 0xFF);
      if (pgno == 0) {
        pagesDone = true;
        if (header.isCompressed() && pages.read() != -1) throw new LtxException("expected lz4 end frame");
        return 0;
      }
      checkPageNumber(pgno);
      Lz4FrameReader.readFully(pages, buf, ps);
      fileCrc.update(buf, 0, ps);
      if (header.isSnapshot() && pgno != lockPgno) pagesChecksum ^= Checksum.ofPage(pgno, buf, 0, ps);
      lastPgno = pgno;
      pageCount++;
      return pgno;
    } catch (EOFException e) {
      throw new LtxException("truncated file: unexpected end of file after " + pageCount + " pages");
    }
  }

  private void checkPageNumber(int pgno) throws LtxException {
    if (Integer.compareUnsigned(pgno, header.commit()) > 0) {
      throw new LtxException("page number " + Integer.toUnsignedLong(pgno) + " out-of-bounds for commit size "
          + Integer.toUnsignedLong(header.commit()));
    }
    if (lastPgno != 0 && Integer.compareUnsigned(pgno, lastPgno) <= 0) {
      throw new LtxException("out-of-order page numbers: " + Integer.toUnsignedLong(lastPgno) + ","
          + Integer.toUnsignedLong(pgno));
    }
  }

  /** Pages read so far. */
  public long pageCount() {
    return pageCount;
  }

  /**
   * Skips any unread pages, reads the trailer and verifies it; returns it. Throws {@link LtxException} naming
   * the check that failed.
   */
  public LtxTrailer finish() throws IOException {
    if (trailer != null) return trailer;
    byte[] scratch = new byte[header.pageSize()];
    while (readPage(scratch) != 0) {
      // skip to the end of the page block
    }
    byte[] t = new byte[LtxTrailer.SIZE];
    if (raw.readNBytes(t, 0, t.length) < t.length) throw new LtxException("truncated file: trailer incomplete");
    if (raw.read() != -1) throw new LtxException("unexpected data after trailer");
    LtxTrailer tr = LtxTrailer.decode(t, 0);
    fileCrc.update(t, 0, 8);
    if (tr.postApplyChecksum() == 0) throw new LtxException("post-apply checksum required");
    if (!Checksum.isValid(tr.postApplyChecksum())) throw new LtxException("invalid post-apply checksum format");
    if (!Checksum.isValid(tr.fileChecksum())) throw new LtxException("invalid file checksum format");
    long computed = Checksum.FLAG | fileCrc.value();
    if (tr.fileChecksum() != computed) {
      throw new LtxException("file checksum mismatch: trailer has " + Checksum.format(tr.fileChecksum())
          + ", computed " + Checksum.format(computed));
    }
    if (header.isSnapshot() && tr.postApplyChecksum() != (Checksum.FLAG | pagesChecksum)) {
      throw new LtxException("post-apply checksum in trailer (" + Checksum.format(tr.postApplyChecksum())
          + ") does not match calculated checksum (" + Checksum.format(Checksum.FLAG | pagesChecksum) + ")");
    }
    trailer = tr;
    return tr;
  }

  /** Closes the underlying stream. */
  @Override
  public void close() throws IOException {
    raw.close();
  }

  /** Decodes a whole file and verifies every checksum; returns its header and trailer. */
  public static LtxFileInfo verify(InputStream in) throws IOException {
    try (LtxDecoder d = new LtxDecoder(in)) {
      LtxTrailer t = d.finish();
      return new LtxFileInfo(d.header(), t, d.pageCount());
    }
  }
}
