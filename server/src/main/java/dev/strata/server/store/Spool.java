package dev.strata.server.store;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Bytes held aside to be read back: in memory up to a limit, then in a temporary file. Most of what the server
 * spools (an upload's pages, a flush's level-1 file) is a few KiB, and a file created, written, read and deleted for
 * each costs more than the bytes do. Write, {@link #finish()}, then {@link #open()} as often as needed; closing
 * deletes the file, if any.
 */
public final class Spool extends OutputStream {
  private final Path tmpDir;
  private final String prefix;
  private final int memoryLimit;
  private Memory memory = new Memory();
  private Path file;
  private OutputStream out;
  private long size;

  public Spool(Path tmpDir, String prefix, int memoryLimit) {
    this.tmpDir = tmpDir;
    this.prefix = prefix;
    this.memoryLimit = memoryLimit;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (memory != null && memory.size() + len > memoryLimit) {
      file = Files.createTempFile(tmpDir, prefix, ".spool");
      out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
      memory.writeTo(out);
      memory = null;
    }
    if (memory != null) memory.write(b, off, len);
    else out.write(b, off, len);
    size += len;
  }

  /** Ends the writing: what was written can be read. */
  public void finish() throws IOException {
    if (out != null) out.close();
  }

  /** The bytes written. */
  public long size() {
    return size;
  }

  /** What was written, from its start (after {@link #finish()}). */
  public InputStream open() throws IOException {
    if (memory != null) return memory.open();
    return new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
  }

  /** Deletes the temporary file, if any. */
  @Override
  public void close() throws IOException {
    if (out != null) out.close();
    if (file != null) Files.deleteIfExists(file);
  }

  /** Bytes in memory, read back in place (without the copy {@code toByteArray} makes). */
  private static final class Memory extends ByteArrayOutputStream {
    InputStream open() {
      return new ByteArrayInputStream(buf, 0, count);
    }
  }
}
