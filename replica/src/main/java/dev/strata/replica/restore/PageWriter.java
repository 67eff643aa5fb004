package dev.strata.replica.restore;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes the pages of a database file at their offsets from a background thread, so that decoding and writing
 * overlap: runs of consecutive pages are gathered into 1 MiB blocks, and every 64 MiB written a second thread
 * starts the kernel's writeback of what is written so far, so that the caller's final fsync has little left to do.
 * Memory: four blocks.
 */
final class PageWriter implements AutoCloseable {
  private static final int BLOCK = 1 << 20;
  private static final int BLOCKS = 4;
  private static final long FLUSH_EVERY = 64L << 20;

  /** A buffer of consecutive pages starting at {@code first}; a null buffer ends the stream. */
  private static final class Block {
    final ByteBuffer buf;
    long first;

    Block(ByteBuffer buf) {
      this.buf = buf;
    }
  }

  private static final Block END = new Block(null);

  private final FileChannel ch;
  private final int pageSize;
  private final BlockingQueue<Block> free = new ArrayBlockingQueue<>(BLOCKS);
  private final BlockingQueue<Block> full = new ArrayBlockingQueue<>(BLOCKS + 1);
  private final AtomicBoolean flushing = new AtomicBoolean();
  private volatile Thread flusher; // the last background flush started
  private final Thread writer;
  private volatile IOException failure;
  private Block current;
  private long next; // the page number the current block takes next
  private boolean ended;

  PageWriter(FileChannel ch, int pageSize) {
    this.ch = ch;
    this.pageSize = pageSize;
    int size = Math.max(pageSize, BLOCK / pageSize * pageSize);
    for (int i = 0; i < BLOCKS; i++) free.add(new Block(ByteBuffer.allocateDirect(size)));
    writer = Thread.ofPlatform().daemon().name("restore-write").start(this::drain);
  }

  /** Queues one page (the caller's array is copied and may be reused at once). */
  void write(int pgno, byte[] page) throws IOException {
    long p = Integer.toUnsignedLong(pgno);
    if (current != null && (p != next || current.buf.remaining() < pageSize)) hand();
    if (current == null) {
      current = take();
      current.buf.clear();
      current.first = p;
      next = p;
    }
    current.buf.put(page, 0, pageSize);
    next++;
  }

  private Block take() throws IOException {
    try {
      Block b = free.take();
      if (failure != null) throw failure;
      return b;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("restore interrupted");
    }
  }

  private void hand() throws IOException {
    current.buf.flip();
    put(current);
    current = null;
  }

  private void put(Block b) throws IOException {
    try {
      full.put(b);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("restore interrupted");
    }
  }

  /** Writes what is queued and sets the file size to {@code size} bytes; the caller fsyncs. */
  void finish(long size) throws IOException {
    if (current != null) hand();
    end();
    awaitFlush(); // a background flush still running: let it end first, and see whether it failed
    if (failure != null) throw failure;
    if (ch.size() < size) ch.write(ByteBuffer.allocate(1), size - 1); // a trailing lock page stays a hole
  }

  private void end() throws IOException {
    if (ended) return;
    ended = true;
    put(END);
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("restore interrupted");
    }
  }

  /** The writer thread: writes blocks in order; after a failure it only recycles them, so the producer never waits forever. */
  private void drain() {
    long sinceFlush = 0;
    try {
      for (Block b; (b = full.take()) != END; ) {
        if (failure == null) {
          try {
            long pos = (b.first - 1) * pageSize;
            int n = b.buf.remaining();
            while (b.buf.hasRemaining()) pos += ch.write(b.buf, pos);
            sinceFlush += n;
            if (sinceFlush >= FLUSH_EVERY && flushing.compareAndSet(false, true)) {
              sinceFlush = 0;
              flusher = Thread.ofPlatform().daemon().name("restore-flush").start(this::flush);
            }
          } catch (IOException e) {
            failure = e;
          }
        }
        free.put(b);
      }
    } catch (InterruptedException e) {
      failure = new InterruptedIOException("restore writer interrupted");
    }
  }

  private void flush() {
    try {
      ch.force(false); // starts writeback of what is written so far while decoding goes on
    } catch (IOException e) {
      if (failure == null) failure = e;
    } finally {
      flushing.set(false);
    }
  }

  @Override
  public void close() throws IOException {
    if (!ended) {
      failure = failure != null ? failure : new IOException("restore abandoned");
      end();
    }
    awaitFlush();
  }

  /**
   * Waits (without spinning: the decoders need the CPU) for the background flush. Its failure counts: the error it
   * consumed would not be reported again by the caller's fsync on another descriptor.
   */
  private void awaitFlush() throws IOException {
    Thread f = flusher;
    if (f == null) return;
    try {
      f.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("restore interrupted");
    }
  }
}
