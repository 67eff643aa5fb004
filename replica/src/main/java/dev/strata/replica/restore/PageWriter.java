package dev.strata.replica.restore;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Writes the pages of a database file at their offsets from a background thread, so that decoding and writing
 * overlap: runs of consecutive pages are gathered into 1 MiB blocks (written 64 KiB a call, see
 * {@link DatabaseFileWrites}), and every 8 MiB written the kernel is asked to start writing that range back
 * ({@link Writeback}), so that the caller's final fsync has little left to do.
 * Memory: four blocks.
 */
final class PageWriter implements AutoCloseable {
  private static final int BLOCK = 1 << 20;
  private static final int BLOCKS = 4;
  private static final long WRITEBACK_EVERY = 8L << 20;

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
  private final Writeback writeback; // null where the platform has none
  private final Thread writer;
  private volatile IOException failure;
  private Block current;
  private long next; // the page number the current block takes next
  private boolean ended;

  /** Writes to {@code ch}, which is open on {@code file}. */
  PageWriter(FileChannel ch, Path file, int pageSize) {
    this.ch = ch;
    this.writeback = Writeback.open(file).orElse(null);
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
    long low = Long.MAX_VALUE, high = 0; // the range written since writeback was last started
    try {
      for (Block b; (b = full.take()) != END; ) {
        if (failure == null) {
          try {
            long pos = (b.first - 1) * pageSize;
            low = Math.min(low, pos);
            pos = DatabaseFileWrites.write(ch, b.buf, pos);
            high = Math.max(high, pos);
            if (writeback != null && high - low >= WRITEBACK_EVERY) {
              writeback.start(low, high - low);
              low = Long.MAX_VALUE;
              high = 0;
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

  @Override
  public void close() throws IOException {
    if (!ended) {
      failure = failure != null ? failure : new IOException("restore abandoned");
      end();
    }
    if (writeback != null) writeback.close();
  }
}
