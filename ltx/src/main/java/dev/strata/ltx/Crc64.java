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

  /** The appender for blocks of {@code 4 + pageSize} bytes (a page frame: big-endian pgno, then the page). */
  static Appender appenderForPage(int pageSize) {
    int slot = Integer.numberOfTrailingZeros(pageSize) - 9; // 512 → 0 … 65536 → 7
    Appender a = PAGE_APPENDERS[slot];
    if (a == null) PAGE_APPENDERS[slot] = a = new Appender(4L + pageSize); // a benign race: equal values
    return a;
  }

  private static final Appender[] PAGE_APPENDERS = new Appender[8];

  /**
   * Appends a block of fixed length to a running CRC given only the block's own CRC:
   * {@code append(crc(A), crc(B)) == crc(A ‖ B)} for every B of that length.
   *
   * <p>Exists so that one pass over a page frame yields both the page checksum (a fresh CRC of pgno ‖ page) and
   * the running file checksum, which covers the very same bytes: the CRC is linear, so
   * {@code crc(A ‖ B) = Z(crc(A)) ^ crc(B)} where Z is the (linear) effect of |B| zero bytes on the register;
   * Z is applied here with eight 256-entry tables, like one step of slicing-by-8.
   */
  static final class Appender {
    private final long[] table = new long[8 * 256];

    Appender(long length) {
      long[] z = power(zeroByteOperator(), length);
      for (int k = 0; k < 8; k++) {
        for (int b = 1; b < 256; b++) {
          int low = Integer.numberOfTrailingZeros(b);
          table[k * 256 + b] = table[k * 256 + (b & (b - 1))] ^ z[8 * k + low];
        }
      }
    }

    long append(long crcA, long crcB) {
      long x = crcA;
      return crcB ^ table[(int) (x & 0xFF)] ^ table[256 + (int) ((x >>> 8) & 0xFF)]
          ^ table[512 + (int) ((x >>> 16) & 0xFF)] ^ table[768 + (int) ((x >>> 24) & 0xFF)]
          ^ table[1024 + (int) ((x >>> 32) & 0xFF)] ^ table[1280 + (int) ((x >>> 40) & 0xFF)]
          ^ table[1536 + (int) ((x >>> 48) & 0xFF)] ^ table[1792 + (int) (x >>> 56)];
    }

    /** The register update for one zero byte, as a 64×64 bit matrix (column i = image of bit i). */
    private static long[] zeroByteOperator() {
      long[] m = new long[64];
      for (int i = 0; i < 64; i++) {
        long c = 1L << i;
        m[i] = TABLES[0][(int) (c & 0xFF)] ^ (c >>> 8);
      }
      return m;
    }

    private static long[] power(long[] m, long n) {
      long[] result = new long[64];
      for (int i = 0; i < 64; i++) result[i] = 1L << i; // identity
      for (long[] base = m; n > 0; n >>>= 1, base = compose(base, base)) {
        if ((n & 1) != 0) result = compose(base, result);
      }
      return result;
    }

    /** The matrix of {@code a} after {@code b}. */
    private static long[] compose(long[] a, long[] b) {
      long[] r = new long[64];
      for (int i = 0; i < 64; i++) r[i] = apply(a, b[i]);
      return r;
    }

    private static long apply(long[] m, long v) {
      long r = 0;
      for (int i = 0; v != 0; i++, v >>>= 1) {
        if ((v & 1) != 0) r ^= m[i];
      }
      return r;
    }
  }
}
