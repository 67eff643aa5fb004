package dev.strata.server.store;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.CountingInputStream;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxTrailer;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A complete, verified LTX file held aside before it is applied. Receiving, decompressing and checksumming happen
 * here, before the metadata writer is involved, so that a slow or broken upload never holds the write lock and the
 * writer does as little as possible per upload.
 *
 * <p>An upload ({@link #receive}) is kept decoded: each page with its page checksum, in memory when small, else in
 * a temporary file. A file built by the server itself ({@link #adopt}: restores, imports) stays an LTX file and is
 * decoded again when applied.
 */
public final class SpooledLtx implements AutoCloseable {
  /** Decoded uploads up to this size stay in memory. */
  public static final int MEMORY_LIMIT = 1 << 20;

  private final LtxFileInfo info;
  private final long size;
  private final Spool frames; // decoded: pgno u32, page checksum u64, page
  private final Path ltxFile;

  private SpooledLtx(LtxFileInfo info, long size, Spool frames, Path ltxFile) {
    this.info = info;
    this.size = size;
    this.frames = frames;
    this.ltxFile = ltxFile;
  }

  /**
   * Reads an LTX file from {@code in} to its end, verifying every checksum on the way. Throws
   * {@link dev.strata.ltx.LtxException} for a malformed file and leaves nothing behind on failure.
   */
  public static SpooledLtx receive(InputStream in, Path tmpDir) throws IOException {
    CountingInputStream counted = new CountingInputStream(in);
    Spool spool = new Spool(tmpDir, "upload-", MEMORY_LIMIT);
    // A small buffer: most uploads are a few KiB (the decoder's own would be 64 KiB, for every upload).
    try (LtxDecoder dec = new LtxDecoder(new BufferedInputStream(counted, 8192))) {
      int ps = dec.header().pageSize();
      byte[] buf = new byte[ps];
      DataOutputStream out = new DataOutputStream(spool);
      for (int pgno; (pgno = dec.readPage(buf)) != 0; ) {
        out.writeInt(pgno);
        out.writeLong(Checksum.FLAG | dec.pageCrc()); // computed by the decoder to verify the file
        out.write(buf, 0, ps);
      }
      out.flush();
      LtxTrailer trailer = dec.finish();
      spool.finish();
      LtxFileInfo info = new LtxFileInfo(dec.header(), trailer, dec.pageCount());
      return new SpooledLtx(info, counted.count(), spool, null);
    } catch (IOException | RuntimeException e) {
      spool.close();
      throw e;
    }
  }

  /** Wraps an LTX file already written to {@code file} (taking ownership) after verifying it. */
  public static SpooledLtx adopt(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      LtxFileInfo info = LtxDecoder.verify(in);
      return new SpooledLtx(info, Files.size(file), null, file);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /** Header, trailer and page count. */
  public LtxFileInfo info() {
    return info;
  }

  /** Size in bytes of the LTX file as received. */
  public long size() {
    return size;
  }

  /** The pages in file order, each with its page checksum. */
  public PageCursor pages() throws IOException {
    if (ltxFile != null) return new Decoding(new LtxDecoder(Files.newInputStream(ltxFile)));
    InputStream in = frames.open();
    return new Decoded(new DataInputStream(in), info.header().pageSize(), info.pageCount());
  }

  /** The LTX file's pages, read one at a time. */
  public interface PageCursor extends AutoCloseable {
    /** Reads the next page into {@code buf}; returns its number, or 0 after the last. */
    int next(byte[] buf) throws IOException;

    /** The page checksum of the page {@link #next} returned. */
    long checksum();

    @Override
    void close() throws IOException;
  }

  /** Deletes the temporary file, if any. */
  @Override
  public void close() throws IOException {
    if (frames != null) frames.close();
    if (ltxFile != null) Files.deleteIfExists(ltxFile);
  }

  /** Pages decoded at receive time. */
  private static final class Decoded implements PageCursor {
    private final DataInputStream in;
    private final int pageSize;
    private long left; // pages: the end is known, not found by an exception (costly on every upload)
    private long checksum;

    Decoded(DataInputStream in, int pageSize, long pages) {
      this.in = in;
      this.pageSize = pageSize;
      this.left = pages;
    }

    @Override
    public int next(byte[] buf) throws IOException {
      if (left == 0) return 0;
      left--;
      int pgno = in.readInt();
      checksum = in.readLong();
      in.readFully(buf, 0, pageSize);
      return pgno;
    }

    @Override
    public long checksum() {
      return checksum;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /** Pages decoded now, from an LTX file; the file is verified again when its last page has been read. */
  private static final class Decoding implements PageCursor {
    private final LtxDecoder dec;
    private long checksum;

    Decoding(LtxDecoder dec) {
      this.dec = dec;
    }

    @Override
    public int next(byte[] buf) throws IOException {
      int pgno = dec.readPage(buf);
      if (pgno == 0) {
        dec.finish();
        return 0;
      }
      checksum = Checksum.FLAG | dec.pageCrc();
      return pgno;
    }

    @Override
    public long checksum() {
      return checksum;
    }

    @Override
    public void close() throws IOException {
      dec.close();
    }
  }
}
