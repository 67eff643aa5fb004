package dev.strata.replica.testing;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import java.io.InputStream;

/**
 * A child-process writer for crash tests: {@code SlowWriter <replica-url> <level> <min> <max> <size> <pause-at>}
 * starts writing a {@code size}-byte file for TXIDs {@code min..max} and, once {@code pause-at} bytes have been
 * taken from its data, prints {@code PAUSED} and blocks forever, so that the test can kill it mid-write
 * ({@code Process.destroyForcibly}) and check that nothing is visible under the final name.
 */
public final class SlowWriter {
  private SlowWriter() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int level = Integer.parseInt(args[1]);
    long min = Long.parseLong(args[2]);
    long max = Long.parseLong(args[3]);
    long size = Long.parseLong(args[4]);
    long pauseAt = Long.parseLong(args[5]);
    try (ReplicaClient client = ReplicaUrl.open(url)) {
      client.writeFile(level, TestLtx.fakeInfo(min, max), new PausingStream(size, pauseAt), size);
    }
    System.out.println("DONE");
  }

  /** {@code size} bytes of a pattern that blocks forever at {@code pauseAt}. */
  private static final class PausingStream extends InputStream {
    private final long size;
    private final long pauseAt;
    private long pos;

    PausingStream(long size, long pauseAt) {
      this.size = size;
      this.pauseAt = pauseAt;
    }

    @Override
    public int read() {
      byte[] b = new byte[1];
      return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos == pauseAt) {
        System.out.println("PAUSED");
        System.out.flush();
        while (true) {
          try {
            Thread.sleep(60_000);
          } catch (InterruptedException ignored) {
            // keep blocking until killed
          }
        }
      }
      if (pos >= size) return -1;
      int n = (int) Math.min(len, Math.min(size, pauseAt > pos ? pauseAt : size) - pos);
      for (int i = 0; i < n; i++) b[off + i] = (byte) ((pos + i) * 31);
      pos += n;
      return n;
    }
  }
}
