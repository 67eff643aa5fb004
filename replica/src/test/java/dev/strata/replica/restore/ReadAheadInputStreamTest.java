package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ReadAheadInputStreamTest {
  private static final int BLOCK = 1000;

  @Test
  void givesBackEveryByteInOrderWhateverTheSizesOfReads() throws IOException {
    Random rnd = new Random(3);
    for (int size : new int[] {0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 7 * BLOCK + 13, 50_000}) {
      byte[] data = new byte[size];
      rnd.nextBytes(data);
      try (InputStream in = new ReadAheadInputStream(new ByteArrayInputStream(data), BLOCK, 2, "t")) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[3 * BLOCK];
        while (true) {
          int n = rnd.nextInt(4) == 0 ? oneByte(in, buf) : in.read(buf, 0, 1 + rnd.nextInt(buf.length));
          if (n < 0) break;
          assertThat(n).isPositive();
          out.write(buf, 0, n);
        }
        assertThat(out.toByteArray()).as("%d bytes", size).isEqualTo(data);
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.read(buf, 0, 10)).isEqualTo(-1);
      }
    }
  }

  @Test
  void aFailureOfTheSourceReachesTheReaderAfterTheBytesBeforeIt() throws IOException {
    byte[] data = new byte[5 * BLOCK];
    new Random(4).nextBytes(data);
    InputStream failing = new InputStream() {
      int pos;

      @Override
      public int read() throws IOException {
        if (pos == 3 * BLOCK + 10) throw new IOException("disk on fire");
        return data[pos++] & 0xFF;
      }
    };
    try (InputStream in = new ReadAheadInputStream(failing, BLOCK, 2, "t")) {
      assertThat(in.readNBytes(3 * BLOCK)).isEqualTo(java.util.Arrays.copyOf(data, 3 * BLOCK));
      assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class).hasMessage("disk on fire");
    }
  }

  @Test
  void closeEndsAReadBlockedInTheSourceAndClosesIt() throws Exception {
    CountDownLatch reading = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    InputStream blocked = new InputStream() {
      @Override
      public int read() throws IOException {
        reading.countDown();
        try {
          closed.await(); // a network read that only closing the stream ends
        } catch (InterruptedException e) {
          // the read thread is interrupted too; a real socket read would not notice, so neither does this one
          try {
            closed.await();
          } catch (InterruptedException again) {
            throw new IOException(again);
          }
        }
        throw new IOException("stream closed");
      }

      @Override
      public void close() {
        closed.countDown();
      }
    };
    InputStream in = new ReadAheadInputStream(blocked, BLOCK, 2, "t");
    reading.await();
    in.close();
    assertThat(closed.getCount()).isZero();
  }

  private static int oneByte(InputStream in, byte[] buf) throws IOException {
    int b = in.read();
    if (b < 0) return -1;
    buf[0] = (byte) b;
    return 1;
  }
}
