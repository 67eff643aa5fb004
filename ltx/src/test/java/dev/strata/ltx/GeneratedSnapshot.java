package dev.strata.ltx;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * An LTX snapshot produced on demand as an {@link InputStream}: pages come from a generator and go through a real
 * {@link LtxEncoder} only as the reader asks for bytes, so a file of any size (past the 1 GiB lock page, say) is
 * decoded without ever being held in memory or on disk.
 */
final class GeneratedSnapshot extends InputStream {
  /** Fills {@code page} with the content of page {@code pgno}. */
  interface Pages {
    void fill(int pgno, byte[] page);
  }

  private final Pages pages;
  private final int commit;
  private final int lockPgno;
  private final byte[] page;
  private final Buffer buffer = new Buffer();
  private final LtxEncoder encoder;
  private long database = Checksum.EMPTY_DATABASE;
  private int next = 1;
  private boolean finished;

  /** A snapshot with page size, commit and flags; timestamp 0, TXID 1–1. */
  GeneratedSnapshot(int flags, int pageSize, int commit, Pages pages) {
    this.pages = pages;
    this.commit = commit;
    this.lockPgno = LtxHeader.lockPgno(pageSize);
    this.page = new byte[pageSize];
    try {
      encoder = new LtxEncoder(buffer, LtxHeader.of(flags, pageSize, commit, 1, 1, 0, 0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The database checksum of every page generated so far, lock page excluded. */
  long databaseChecksum() {
    return database;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    while (buffer.length == buffer.pos && !finished) produce();
    if (buffer.length == buffer.pos) return -1;
    int n = Math.min(len, buffer.length - buffer.pos);
    System.arraycopy(buffer.bytes, buffer.pos, b, off, n);
    buffer.pos += n;
    if (buffer.pos == buffer.length) buffer.pos = buffer.length = 0;
    return n;
  }

  private void produce() throws IOException {
    if (Integer.compareUnsigned(next, commit) > 0 || commit == 0) {
      encoder.finish(database);
      finished = true;
      return;
    }
    if (next != lockPgno) {
      pages.fill(next, page);
      database = Checksum.roll(database, 0, Checksum.ofPage(next, page));
      encoder.encodePage(next, page);
    }
    next++;
  }

  /** Collects what the encoder writes until the reader takes it. */
  private static final class Buffer extends OutputStream {
    byte[] bytes = new byte[256 * 1024];
    int pos;
    int length;

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      if (length + len > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + len));
      System.arraycopy(b, off, bytes, length, len);
      length += len;
    }
  }
}
