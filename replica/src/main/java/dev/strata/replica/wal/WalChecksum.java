package dev.strata.replica.wal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * SQLite's WAL checksum (fileformat2.html §4.3): over 32-bit words {@code x[i]} taken in pairs,
 * {@code s0 += x[i] + s1; s1 += x[i+1] + s0}, modulo 2^32. The words are read in the byte order the header magic
 * names. The two halves are carried packed in one {@code long} as {@code s0 << 32 | s1}.
 */
public final class WalChecksum {
  private static final VarHandle BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  private WalChecksum() {}

  /** Packs the two checksum words. */
  public static long of(int s0, int s1) {
    return (long) s0 << 32 | (s1 & 0xFFFFFFFFL);
  }

  /** The first word of a packed checksum. */
  public static int first(long packed) {
    return (int) (packed >>> 32);
  }

  /** The second word of a packed checksum. */
  public static int second(long packed) {
    return (int) packed;
  }

  /** Continues checksum {@code seed} over {@code len} bytes (a multiple of 8) of {@code b} from {@code off}. */
  public static long update(long seed, byte[] b, int off, int len, boolean bigEndian) {
    if ((len & 7) != 0) throw new IllegalArgumentException("wal checksum length must be a multiple of 8: " + len);
    int s0 = first(seed), s1 = second(seed);
    // Two loops, each on a constant VarHandle: a VarHandle chosen at run time is not inlined, which made this
    // loop, run over every captured frame, the agent's hottest.
    if (bigEndian) {
      for (int i = off, end = off + len; i < end; i += 8) {
        s0 += (int) BE.get(b, i) + s1;
        s1 += (int) BE.get(b, i + 4) + s0;
      }
    } else {
      for (int i = off, end = off + len; i < end; i += 8) {
        s0 += (int) LE.get(b, i) + s1;
        s1 += (int) LE.get(b, i + 4) + s0;
      }
    }
    return of(s0, s1);
  }
}
