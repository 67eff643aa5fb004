package dev.strata.server.store;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A complete, verified LTX file held aside before it is applied: in memory when small, else in a temporary file.
 * Receiving and verifying happen before the metadata writer is involved, so a slow or broken upload never holds
 * the write lock.
 */
public final class SpooledLtx implements AutoCloseable {
  /** Uploads up to this size stay in memory. */
  public static final int MEMORY_LIMIT = 1 << 20;

  private final LtxFileInfo info;
  private final byte[] bytes;
  private final Path file;
  private final long size;

  private SpooledLtx(LtxFileInfo info, byte[] bytes, Path file, long size) {
    this.info = info;
    this.bytes = bytes;
    this.file = file;
    this.size = size;
  }

  /**
   * Reads an LTX file from {@code in} to its end, verifying every checksum on the way. Throws
   * {@link dev.strata.ltx.LtxException} for a malformed file and leaves nothing behind on failure.
   */
  public static SpooledLtx receive(InputStream in, Path tmpDir) throws IOException {
    Spool spool = new Spool(tmpDir);
    try {
      LtxFileInfo info = LtxDecoder.verify(new Tee(in, spool));
      spool.close();
      return new SpooledLtx(info, spool.memory == null ? null : spool.memory.toByteArray(), spool.file, spool.size);
    } catch (IOException | RuntimeException e) {
      spool.discard();
      throw e;
    }
  }

  /** Wraps an LTX file already written to {@code file} (taking ownership) after verifying it. */
  public static SpooledLtx adopt(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      LtxFileInfo info = LtxDecoder.verify(in);
      return new SpooledLtx(info, null, file, Files.size(file));
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /** Header, trailer and page count. */
  public LtxFileInfo info() {
    return info;
  }

  /** Size in bytes. */
  public long size() {
    return size;
  }

  /** Reads the file from its start. */
  public InputStream open() throws IOException {
    return bytes != null ? new ByteArrayInputStream(bytes) : Files.newInputStream(file);
  }

  /** Deletes the temporary file, if any. */
  @Override
  public void close() throws IOException {
    if (file != null) Files.deleteIfExists(file);
  }

  /** Copies what the decoder reads into the spool. */
  private static final class Tee extends FilterInputStream {
    private final OutputStream copy;

    Tee(InputStream in, OutputStream copy) {
      super(in);
      this.copy = copy;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) copy.write(b);
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) copy.write(b, off, n);
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buf = new byte[(int) Math.min(n, 8192)];
      int r = read(buf, 0, buf.length);
      return Math.max(r, 0);
    }
  }

  /** Memory until {@link #MEMORY_LIMIT}, then a temporary file. */
  private static final class Spool extends OutputStream {
    private final Path tmpDir;
    ByteArrayOutputStream memory = new ByteArrayOutputStream();
    Path file;
    OutputStream out;
    long size;

    Spool(Path tmpDir) {
      this.tmpDir = tmpDir;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (memory != null && memory.size() + len > MEMORY_LIMIT) {
        file = Files.createTempFile(tmpDir, "upload-", ".ltx");
        out = Files.newOutputStream(file, StandardOpenOption.WRITE);
        memory.writeTo(out);
        memory = null;
      }
      if (memory != null) memory.write(b, off, len);
      else out.write(b, off, len);
      size += len;
    }

    @Override
    public void close() throws IOException {
      if (out != null) out.close();
    }

    void discard() throws IOException {
      close();
      if (file != null) Files.deleteIfExists(file);
    }
  }
}
