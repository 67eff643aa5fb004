package dev.strata.replica.litestream;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import java.util.Arrays;

/** The page checksums of a database being built, so that its LTX database checksum needs no second read. */
final class PageSums {
  private long[] sums = new long[4096]; // index pgno; without the flag
  private long pages;

  /** Records the page {@code pgno} held in {@code b} at {@code off}. */
  void set(int pgno, byte[] b, int off, int pageSize) {
    if (pgno >= sums.length) sums = Arrays.copyOf(sums, Math.max(pgno + 1, sums.length * 2));
    sums[pgno] = Checksum.ofPage(pgno, b, off, pageSize) & ~Checksum.FLAG;
    pages = Math.max(pages, Integer.toUnsignedLong(pgno));
  }

  /** The database now has {@code n} pages. */
  void truncate(long n) {
    for (long p = n + 1; p <= pages && p < sums.length; p++) sums[(int) p] = 0;
    pages = n;
  }

  /** The LTX whole-database checksum of pages 1..n, the lock page left out. */
  long checksum(long n, int pageSize) {
    int lock = LtxHeader.lockPgno(pageSize);
    long x = 0;
    for (long p = 1; p <= n && p < sums.length; p++) if (p != lock) x ^= sums[(int) p];
    return Checksum.FLAG | x;
  }
}
