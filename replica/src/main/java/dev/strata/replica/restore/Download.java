package dev.strata.replica.restore;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file being downloaded into a local temporary file, readable while it arrives: {@link #reader()} returns the
 * bytes written so far and waits for more, so that the merge starts with the first bytes of the snapshot instead
 * of after the whole download.
 */
final class Download implements AutoCloseable {
  private final Path path;
  private final OutputStream out;
  private long written;
  private boolean complete;
  private IOException failure;

  Download(Path path) throws IOException {
    this.path = path;
    this.out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  /** Appends bytes (the downloading thread); throws once the download is abandoned. */
  void append(byte[] b, int n) throws IOException {
    synchronized (this) {
      if (failure != null) throw failure;
    }
    out.write(b, 0, n);
    synchronized (this) {
      written += n;
      notifyAll();
    }
  }

  /** All bytes are written (the downloading thread). */
  void complete() throws IOException {
    out.close();
    synchronized (this) {
      complete = true;
      notifyAll();
    }
  }

  /** The download failed or was abandoned; readers get {@code e}. */
  synchronized void fail(IOException e) {
    if (complete) return;
    if (failure == null) failure = e;
    notifyAll();
  }

  synchronized long written() {
    return written;
  }

  /** Waits until more than {@code pos} bytes are written or the download ended; returns how many are written. */
  private synchronized long await(long pos) throws IOException {
    while (written <= pos && !complete && failure == null) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("restore interrupted");
      }
    }
    if (failure != null) throw failure;
    return written;
  }

  /** A stream of the file from its start that blocks until bytes arrive and ends where the download ends. */
  InputStream reader() throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    return new InputStream() {
      private long pos;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        long available = await(pos);
        if (pos >= available) return -1;
        int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, available - pos)), pos);
        if (n > 0) pos += n;
        return n;
      }

      @Override
      public void close() throws IOException {
        ch.close();
      }
    };
  }

  @Override
  public void close() throws IOException {
    fail(new IOException("download abandoned"));
    out.close();
  }
}
