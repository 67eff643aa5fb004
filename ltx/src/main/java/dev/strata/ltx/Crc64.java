package dev.strata.ltx;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * CRC-64/GO-ISO (Go's {@code hash/crc64} with the ISO table), the CRC every LTX checksum is built on.
 *
 * <p>Slicing-by-8, because checksums are computed over every page of every file and a byte-at-a-time
 * table would cap compaction and restore throughput.
 */
public final class Crc64 {
  private static final long POLY = 0xD800000000000000L;
  private static final long[][] TABLES = new long[8][256];
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  static {
    for (int i = 0; i < 256; i++) {
      long c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >>> 1) ^ POLY : c >>> 1;
      TABLES[0][i] = c;
    }
    for (int t = 1; t < 8; t++) {
      for (int i = 0; i < 256; i++) {
        long prev = TABLES[t - 1][i];
        TABLES[t][i] = (prev >>> 8) ^ TABLES[0][(int) (prev & 0xFF)];
      }
    }
  }

  private long crc; // the running CRC in its final (xor-out applied) form

  /** Feeds bytes into this running CRC. */
  public Crc64 update(byte[] b, int off, int len) {
    crc = update(crc, b, off, len);
    return this;
  }

  /** Feeds a whole array into this running CRC. */
  public Crc64 update(byte[] b) {
    return update(b, 0, b.length);
  }

  /** Feeds a big-endian 32-bit integer into this running CRC. */
  public Crc64 updateInt(int v) {
    byte[] b = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    return update(b, 0, 4);
  }

  /** The CRC of everything fed so far. */
  public long value() {
    return crc;
  }

  /** Returns the CRC of {@code crc}'s input followed by the given bytes (Go's {@code crc64.Update}). */
  public static long update(long crc, byte[] b, int off, int len) {
    long c = ~crc;
    long[] t0 = TABLES[0], t1 = TABLES[1], t2 = TABLES[2], t3 = TABLES[3];
    long[] t4 = TABLES[4], t5 = TABLES[5], t6 = TABLES[6], t7 = TABLES[7];
    int i = off, end = off + len;
    for (; i + 8 <= end; i += 8) {
      c ^= (long) LONG_LE.get(b, i);
      c = t7[(int) (c & 0xFF)] ^ t6[(int) ((c >>> 8) & 0xFF)] ^ t5[(int) ((c >>> 16) & 0xFF)]
          ^ t4[(int) ((c >>> 24) & 0xFF)] ^ t3[(int) ((c >>> 32) & 0xFF)] ^ t2[(int) ((c >>> 40) & 0xFF)]
          ^ t1[(int) ((c >>> 48) & 0xFF)] ^ t0[(int) (c >>> 56)];
    }
    for (; i < end; i++) c = t0[(int) ((c ^ b[i]) & 0xFF)] ^ (c >>> 8);
    return ~c;
  }

  /** CRC of one whole array. */
  public static long of(byte[] b) {
    return update(0, b, 0, b.length);
  }
}
