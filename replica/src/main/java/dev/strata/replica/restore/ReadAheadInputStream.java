package dev.strata.replica.restore;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a stream on a thread of its own, a few blocks ahead of its reader: whatever reading the source costs
 * (decrypting an age replica's chunks, copying a file from the page cache) runs in parallel with what the reader does
 * with the bytes (decoding LZ4, checksums). The snapshot of a restore, which holds most pages, is read through one.
 * Memory: {@code blocks + 1} blocks of {@code blockSize} bytes.
 */
final class ReadAheadInputStream extends InputStream {
  /** A block read: {@code length} bytes, or the end of the stream ({@code length < 0}) and how it ended. */
  private static final class Block {
    final byte[] bytes;
    int length;
    IOException failure;

    Block(int size) {
      bytes = new byte[size];
    }
  }

  private final InputStream in;
  private final BlockingQueue<Block> full;
  private final BlockingQueue<Block> free;
  private final Thread thread;
  private Block current;
  private int pos;
  private boolean ended;

  ReadAheadInputStream(InputStream in, int blockSize, int blocks, String name) {
    this.in = in;
    full = new ArrayBlockingQueue<>(blocks + 1);
    free = new ArrayBlockingQueue<>(blocks + 1);
    for (int i = 0; i < blocks + 1; i++) free.add(new Block(blockSize));
    thread = Thread.ofPlatform().daemon().name(name).start(this::fill);
  }

  /** The reading thread: fills free blocks until the end, a failure, or {@link #close}. */
  private void fill() {
    try {
      while (true) {
        Block b = free.take(); // never one that ended the stream: the thread stops after that one
        try {
          b.length = in.readNBytes(b.bytes, 0, b.bytes.length);
          if (b.length == 0) b.length = -1;
        } catch (IOException e) {
          b.failure = e;
          b.length = -1;
        } catch (RuntimeException e) { // a bug below must fail the reader, not leave it waiting forever
          b.failure = new IOException(e.toString(), e);
          b.length = -1;
        }
        full.put(b);
        if (b.length < 0) return;
      }
    } catch (InterruptedException e) {
      // closed: nobody reads on
    }
  }

  /** Makes {@link #current} a block with bytes left; false at the end. */
  private boolean next() throws IOException {
    while (current == null || pos >= current.length) {
      if (ended) return false;
      if (current != null) free.add(current);
      try {
        current = full.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("read interrupted");
      }
      pos = 0;
      if (current.length < 0) {
        ended = true;
        if (current.failure != null) throw current.failure;
        return false;
      }
    }
    return true;
  }

  @Override
  public int read() throws IOException {
    return next() ? current.bytes[pos++] & 0xFF : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) return 0;
    if (!next()) return -1;
    int k = Math.min(len, current.length - pos); // what the current block holds: never waits for the next one
    System.arraycopy(current.bytes, pos, b, off, k);
    pos += k;
    return k;
  }

  /**
   * Stops the reading thread and closes the source (which ends a read blocked in it), then waits for the thread, so
   * that nothing touches the source after this returns.
   */
  @Override
  public void close() throws IOException {
    thread.interrupt();
    try {
      in.close();
    } finally {
      boolean interrupted = false;
      while (thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) Thread.currentThread().interrupt();
    }
  }
}
