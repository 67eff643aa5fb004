package dev.strata.replica;

import dev.strata.ltx.TxidRange;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one replica file, reopening it at the current offset when a read fails (a dropped connection, an idle
 * stream closed by the provider), so that long downloads and merges survive transient errors. Gives up after
 * {@code attempts} consecutive failures at the same offset. A missing file is not retried.
 */
public final class ResumableInputStream extends InputStream {
  private final ReplicaClient client;
  private final int level;
  private final TxidRange range;
  private final int attempts;
  private InputStream in;
  private long offset;
  private boolean closed;

  /** Opens lazily at {@code offset}. */
  public ResumableInputStream(ReplicaClient client, int level, TxidRange range, long offset, int attempts) {
    this.client = client;
    this.level = level;
    this.range = range;
    this.offset = offset;
    this.attempts = Math.max(1, attempts);
  }

  /** Reads from the start, retrying up to 5 times. */
  public ResumableInputStream(ReplicaClient client, int level, TxidRange range) {
    this(client, level, range, 0, 5);
  }

  /** Bytes read so far, counted from the start of the file. */
  public long offset() {
    return offset;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (closed) throw new IOException("stream closed");
    if (len == 0) return 0;
    IOException last = null;
    for (int attempt = 0; attempt < attempts; attempt++) {
      try {
        if (in == null) in = client.openFile(level, range, offset);
        int n = in.read(b, off, len);
        if (n > 0) offset += n;
        return n;
      } catch (IOException e) {
        if (!ReplicaClient.isTransient(e)) throw e; // retrying gives the same answer
        last = e;
        closeQuietly();
        if (attempt + 1 < attempts) pause(attempt);
      }
    }
    throw new IOException("reading " + level + "/" + range.fileName() + " from " + client.location()
        + " failed at offset " + offset + " after " + attempts + " attempts: " + last.getMessage(), last);
  }

  private static void pause(int attempt) throws IOException {
    try {
      Thread.sleep(Math.min(2000, 100L << attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while retrying a read");
    }
  }

  private void closeQuietly() {
    if (in == null) return;
    try {
      in.close();
    } catch (IOException ignored) {
      // the stream is already broken
    }
    in = null;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    if (in != null) {
      in.close();
      in = null;
    }
  }
}
