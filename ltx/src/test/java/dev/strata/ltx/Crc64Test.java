package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** CRC-64/GO-ISO (spec §1.6) and the lanes and appending that make it fast. */
class Crc64Test {
  /** The textbook byte-at-a-time definition of §1.6, to compare the fast paths with. */
  private static long reference(long crc, byte[] b, int off, int len) {
    long c = ~crc;
    for (int i = off; i < off + len; i++) {
      c ^= b[i] & 0xFF;
      for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >>> 1) ^ 0xD800000000000000L : c >>> 1;
    }
    return ~c;
  }

  @Test
  void checkValue() {
    assertThat(Crc64.of("123456789".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0xB90956C775A41001L);
    assertThat(new Crc64().update("12345".getBytes()).update("6789".getBytes()).value())
        .isEqualTo(0xB90956C775A41001L);
  }

  @Test
  void emptyInputIsZero() {
    assertThat(Crc64.of(new byte[0])).isZero();
    assertThat(Crc64.update(0x1234, new byte[8], 3, 0)).isEqualTo(0x1234);
  }

  @Test
  void updateIntFeedsBigEndian() {
    assertThat(new Crc64().updateInt(0x01020304).value()).isEqualTo(Crc64.of(new byte[] {1, 2, 3, 4}));
  }

  /** Every length, offset and starting CRC agrees with the definition (lanes start at 1024 bytes). */
  @Test
  void matchesTheDefinitionForRandomInputs() {
    long seed = new Random().nextLong();
    System.out.println("Crc64Test seed " + seed);
    Random r = new Random(seed);
    for (int i = 0; i < 300; i++) {
      int len = i < 100 ? i : r.nextInt(i < 200 ? 5000 : 70000);
      int off = r.nextInt(9);
      byte[] b = new byte[off + len + r.nextInt(9)];
      r.nextBytes(b);
      long start = r.nextBoolean() ? 0 : r.nextLong();
      assertThat(Crc64.update(start, b, off, len)).as("seed %d, len %d, off %d", seed, len, off)
          .isEqualTo(reference(start, b, off, len));
    }
  }

  @Test
  void appenderJoinsTwoCrcs() {
    long seed = new Random().nextLong();
    System.out.println("Crc64Test appender seed " + seed);
    Random r = new Random(seed);
    for (int i = 0; i < 50; i++) {
      int lenA = r.nextInt(3000), lenB = i < 8 ? 4 + (512 << i) : r.nextInt(3000);
      byte[] ab = new byte[lenA + lenB];
      r.nextBytes(ab);
      long crcA = Crc64.update(0, ab, 0, lenA), crcB = Crc64.update(0, ab, lenA, lenB);
      assertThat(new Crc64.Appender(lenB).append(crcA, crcB)).as("seed %d, %d+%d", seed, lenA, lenB)
          .isEqualTo(Crc64.of(ab));
    }
  }

  @Test
  void pageAppendersCoverAPageFrame() {
    byte[] frame = new byte[4 + 4096];
    new Random(7).nextBytes(frame);
    long prefix = Crc64.of("LTX1".getBytes());
    assertThat(Crc64.appenderForPage(4096).append(prefix, Crc64.of(frame)))
        .isEqualTo(Crc64.update(prefix, frame, 0, frame.length));
  }
}
