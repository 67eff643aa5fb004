package dev.strata.ltx;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;

/**
 * Reads one LTX file as a stream: the header on construction, then pages with {@link #readPage}, then
 * {@link #finish()}, which reads the trailer and verifies the file checksum (and, for snapshots, the database
 * checksum). Memory use does not depend on the number of pages; nothing is trusted before its checksum holds, so
 * callers must not commit to what they read before {@code finish()} returns.
 *
 * <p>Files carry no format version (spec §1.1): the caller names it. {@link LtxFormat#V1} is what LiteFS and Strata
 * write; {@link LtxFormat#V2} and {@link LtxFormat#V3} (Litestream 0.5) are read-only.
 */
public final class LtxDecoder implements AutoCloseable {
  private final CountingInputStream raw;
  private final LtxFormat format;
  private final LtxHeader header;
  private final Frames frames;
  private final int pageSize;
  private final int lockPgno;
  private final boolean verifyDatabaseChecksum; // a snapshot that carries checksums
  private final Crc64.Appender pageFrameAppender;
  private long fileCrc; // CRC of the logical (uncompressed) stream so far: what the trailer's file checksum covers
  private long pagesChecksum; // XOR of the page CRCs of a snapshot: its database checksum, less the flag
  private long pageCrc;
  private int lastPgno;
  private long pageCount;
  private boolean pagesDone;
  private LtxTrailer trailer;

  /** Reads and validates the header of a v1 file. */
  public LtxDecoder(InputStream in) throws IOException {
    this(in, LtxFormat.V1);
  }

  /** Reads and validates the header of a file in the given format. */
  public LtxDecoder(InputStream in, LtxFormat format) throws IOException {
    this.raw = new CountingInputStream(in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 64 * 1024));
    this.format = format;
    byte[] h = new byte[LtxHeader.SIZE];
    int n = raw.readNBytes(h, 0, h.length);
    if (n == 0) throw new LtxException("decode header: empty file");
    if (n < h.length) throw new LtxException("decode header: truncated header (" + n + " of 100 bytes)");
    try {
      header = LtxHeader.decode(h);
    } catch (LtxException e) {
      throw new LtxException("decode header: unmarshal header: " + e.getMessage()); // as superfly/ltx words it
    }
    try {
      header.validate(format);
    } catch (LtxException e) {
      throw new LtxException("decode header: " + e.getMessage());
    }
    hash(h, 0, h.length);
    pageSize = header.pageSize();
    lockPgno = header.lockPgno();
    verifyDatabaseChecksum = header.isSnapshot() && !header.hasNoChecksum();
    pageFrameAppender = Crc64.appenderForPage(pageSize);
    frames = switch (format) {
      case V1 -> new WholeBlockFrames();
      case V2 -> new PerPageFrames(false);
      case V3 -> new PerPageFrames(true);
    };
  }

  /** The validated header. */
  public LtxHeader header() {
    return header;
  }

  /** The format this decoder reads. */
  public LtxFormat format() {
    return format;
  }

  /**
   * Reads the next page into {@code buf} (at least page-size long); returns its page number, or 0 at the end of
   * the page block.
   */
  public int readPage(byte[] buf) throws IOException {
    if (pagesDone) return 0;
    if (buf.length < pageSize) throw new IllegalArgumentException("page buffer shorter than the page size");
    try {
      int pgno = frames.readFrame(buf);
      if (pgno == 0) {
        hash(frames.head, 0, frames.headLength);
        pagesDone = true;
        frames.readEnd();
        return 0;
      }
      checkPageNumber(pgno);
      if (frames.headLength == 4) {
        // v1/v2: the frame header is be32(pgno), so the hashed frame is exactly what the page checksum covers:
        // one CRC pass gives both.
        pageCrc = Crc64.update(Crc64.update(0, frames.head, 0, 4), buf, 0, pageSize);
        fileCrc = pageFrameAppender.append(fileCrc, pageCrc);
      } else {
        hash(frames.head, 0, frames.headLength);
        hash(buf, 0, pageSize);
        pageCrc = Crc64.update(Crc64.update(0, frames.head, 0, 4), buf, 0, pageSize);
      }
      if (verifyDatabaseChecksum && pgno != lockPgno) pagesChecksum ^= pageCrc;
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

  /**
   * The CRC of be32(pgno) ‖ page of the page last read: its page checksum without the flag ({@link
   * Checksum#ofPage} is {@code Checksum.FLAG | pageCrc()}), already computed to verify the file.
   */
  public long pageCrc() {
    return pageCrc;
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
    if (!pagesDone) {
      byte[] scratch = new byte[pageSize];
      while (readPage(scratch) != 0) {
        // skip to the end of the page block
      }
    }
    byte[] t = new byte[LtxTrailer.SIZE];
    if (raw.readNBytes(t, 0, t.length) < t.length) throw new LtxException("truncated file: trailer incomplete");
    if (raw.read() != -1) throw new LtxException("unexpected data after trailer");
    LtxTrailer tr = LtxTrailer.decode(t, 0);
    hash(t, 0, 8);
    tr.validate(header);
    long computed = Checksum.FLAG | fileCrc;
    if (tr.fileChecksum() != computed) {
      throw new LtxException("file checksum mismatch: trailer has " + Checksum.format(tr.fileChecksum())
          + ", computed " + Checksum.format(computed));
    }
    long database = Checksum.FLAG | pagesChecksum;
    if (verifyDatabaseChecksum && tr.postApplyChecksum() != database) {
      throw new LtxException("post-apply checksum in trailer (" + Checksum.format(tr.postApplyChecksum())
          + ") does not match calculated checksum (" + Checksum.format(database) + ")");
    }
    trailer = tr;
    return tr;
  }

  /**
   * Writes the database a snapshot holds as a raw SQLite file (spec §1.4): pages 1..commit in order, the lock page
   * as zeros, then verifies the whole file like {@link #finish()}. Must be called before any page is read. The
   * output is written as it is decoded: if this throws, discard it.
   */
  public void decodeDatabaseTo(OutputStream out) throws IOException {
    if (!header.isSnapshot()) throw new LtxException("cannot decode non-snapshot LTX file to SQLite database");
    if (pageCount != 0 || pagesDone) throw new IllegalStateException("pages were already read from this decoder");
    byte[] page = new byte[pageSize];
    long commit = Integer.toUnsignedLong(header.commit());
    for (long pgno = 1; pgno <= commit; pgno++) {
      if (pgno == lockPgno) {
        out.write(new byte[pageSize]);
        continue;
      }
      int got = readPage(page);
      if (got == 0) throw new LtxException("snapshot ends at page " + (pgno - 1) + " but commit is " + commit);
      if (got != pgno) {
        throw new LtxException("unexpected pgno while decoding page: read " + Integer.toUnsignedLong(got)
            + ", expected " + pgno);
      }
      out.write(page);
    }
    int extra = readPage(page);
    if (extra != 0) {
      throw new LtxException("unexpected page " + Integer.toUnsignedLong(extra) + " after commit " + commit);
    }
    finish();
  }

  /** Closes the underlying stream. */
  @Override
  public void close() throws IOException {
    raw.close();
  }

  /** Decodes a whole v1 file and verifies every checksum; returns its header and trailer. */
  public static LtxFileInfo verify(InputStream in) throws IOException {
    return verify(in, LtxFormat.V1);
  }

  /** Decodes a whole file of the given format and verifies every checksum; returns its header and trailer. */
  public static LtxFileInfo verify(InputStream in, LtxFormat format) throws IOException {
    try (LtxDecoder d = new LtxDecoder(in, format)) {
      LtxTrailer t = d.finish();
      return new LtxFileInfo(d.header(), t, d.pageCount());
    }
  }

  private void hash(byte[] b, int off, int len) {
    fileCrc = Crc64.update(fileCrc, b, off, len);
  }

  /**
   * How a format lays out its page frames. {@link #readFrame} leaves the frame's header bytes (those the file
   * checksum covers) in {@link #head} for the decoder to hash.
   */
  private abstract static class Frames {
    final byte[] head = new byte[10];
    int headLength;

    /** Reads one frame; returns its pgno with the page in {@code buf}, or 0 at the terminator. */
    abstract int readFrame(byte[] buf) throws IOException;

    /** Reads and checks what lies between the terminator and the trailer. */
    abstract void readEnd() throws IOException;
  }

  /** v1: {@code pgno:u32} + raw page, the whole block optionally one LZ4 frame (spec §1.4, §1.5). */
  private final class WholeBlockFrames extends Frames {
    private final InputStream pages;

    WholeBlockFrames() throws IOException {
      if (header.isCompressed()) {
        // The file checksum covers every byte of the frame's content: the frame's own checksums would be a second
        // pass over the pages (XXH32, a tenth of a restore's decoding time) that can fail only where it fails too.
        Lz4FrameReader lz4 = new Lz4FrameReader(raw, false);
        try {
          lz4.open();
        } catch (EOFException e) {
          throw new LtxException("decode page block: unexpected end of file in lz4 frame header");
        }
        pages = lz4;
      } else {
        pages = raw;
      }
      headLength = 4;
    }

    @Override
    int readFrame(byte[] buf) throws IOException {
      Lz4FrameReader.readFully(pages, head, 4);
      int pgno = intBE(head, 0);
      if (pgno != 0) Lz4FrameReader.readFully(pages, buf, pageSize);
      return pgno;
    }

    @Override
    void readEnd() throws IOException {
      // Nothing may follow the terminator inside the LZ4 frame; reading on checks the frame's end and checksum.
      if (header.isCompressed() && pages.read() != -1) throw new LtxException("expected lz4 end frame");
    }
  }

  /**
   * v2 and v3 (spec §1.11): every page compressed on its own, a page index after the terminator. v2 frames are
   * {@code pgno:u32} + LZ4 frame; v3 frames add {@code flags:u16}, and flag 0x0001 means {@code size:u32} + raw LZ4
   * block instead of a frame.
   */
  private final class PerPageFrames extends Frames {
    private static final int FLAG_SIZE = 0x0001;
    private final boolean v3;
    private final Lz4FrameReader lz4 = new Lz4FrameReader(raw, false); // as in v1: the file checksum covers it
    private final byte[] compressed;
    private final byte[] entry = new byte[24];
    private long frameCount;
    private long framesDigest; // CRC of (pgno, offset, size) of each frame read, to compare with the page index

    PerPageFrames(boolean v3) {
      this.v3 = v3;
      this.headLength = v3 ? 6 : 4;
      this.compressed = new byte[LZ4Factory.fastestInstance().fastCompressor().maxCompressedLength(pageSize)];
    }

    @Override
    int readFrame(byte[] buf) throws IOException {
      long offset = raw.count();
      int fixed = v3 ? 6 : 4;
      Lz4FrameReader.readFully(raw, head, fixed);
      headLength = fixed;
      int pgno = intBE(head, 0);
      int flags = v3 ? (head[4] & 0xFF) << 8 | (head[5] & 0xFF) : 0;
      if (pgno == 0) {
        if (flags != 0) throw new LtxException("page number required");
        return 0;
      }
      if ((flags & ~FLAG_SIZE) != 0) throw new LtxException(String.format("invalid page header flags: 0x%04x", flags));
      if ((flags & FLAG_SIZE) != 0) {
        Lz4FrameReader.readFully(raw, head, fixed, 4);
        headLength = fixed + 4;
        readBlock(intBE(head, fixed), buf);
      } else {
        readLz4Frame(buf, pgno);
      }
      framesDigest = digest(framesDigest, pgno, offset, raw.count() - offset);
      frameCount++;
      return pgno;
    }

    private void readBlock(int size, byte[] buf) throws IOException {
      if (size < 0 || size > compressed.length) {
        throw new LtxException("decompress block: compressed size " + Integer.toUnsignedLong(size)
            + " exceeds the bound for page size " + pageSize);
      }
      Lz4FrameReader.readFully(raw, compressed, size);
      int n;
      try {
        n = Lz4FrameReader.DECOMPRESSOR.decompress(compressed, 0, size, buf, 0, pageSize);
      } catch (LZ4Exception e) {
        throw new LtxException("decompress block: corrupt lz4 block");
      }
      if (n != pageSize) throw new LtxException("decompress block: " + n + " bytes, want page size " + pageSize);
    }

    private void readLz4Frame(byte[] buf, int pgno) throws IOException {
      lz4.open();
      if (lz4.readNBytes(buf, 0, pageSize) < pageSize) {
        throw new LtxException("lz4 frame of page " + Integer.toUnsignedLong(pgno) + " is shorter than a page");
      }
      if (lz4.read() != -1) throw new LtxException("expected lz4 end frame");
    }

    /** The page index: (pgno, offset, size) varints per page, a 0, then the u64 length of the varints. */
    @Override
    void readEnd() throws IOException {
      long start = raw.count();
      long entries = 0, indexDigest = 0;
      for (long pgno; (pgno = readUvarint()) != 0; ) {
        long offset = readUvarint(), size = readUvarint();
        if (++entries > frameCount) throw new LtxException("page index lists more pages than the file holds");
        indexDigest = digest(indexDigest, pgno, offset, size);
      }
      long varintLength = raw.count() - start;
      Lz4FrameReader.readFully(raw, entry, 8);
      hash(entry, 0, 8);
      if (longBE(entry, 0) != varintLength) {
        throw new LtxException("page index size mismatch: " + Long.toUnsignedString(longBE(entry, 0)) + " != "
            + varintLength);
      }
      if (entries != frameCount || indexDigest != framesDigest) {
        throw new LtxException("page index does not match the page frames");
      }
    }

    private long readUvarint() throws IOException {
      long value = 0;
      for (int shift = 0; ; shift += 7) {
        int b = raw.read();
        if (b < 0) throw new EOFException("unexpected end of file in page index");
        head[0] = (byte) b;
        hash(head, 0, 1);
        if (shift == 63 && b > 1) throw new LtxException("page index varint overflows 64 bits");
        value |= (long) (b & 0x7F) << shift;
        if (b < 0x80) return value;
      }
    }

    private long digest(long crc, long pgno, long offset, long size) {
      putLongBE(entry, 0, pgno);
      putLongBE(entry, 8, offset);
      putLongBE(entry, 16, size);
      return Crc64.update(crc, entry, 0, 24);
    }
  }

  static int intBE(byte[] b, int off) {
    return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
  }

  private static long longBE(byte[] b, int off) {
    return (long) intBE(b, off) << 32 | Integer.toUnsignedLong(intBE(b, off + 4));
  }

  private static void putLongBE(byte[] b, int off, long v) {
    for (int i = 0; i < 8; i++) b[off + i] = (byte) (v >>> (56 - 8 * i));
  }
}
