package dev.strata.replica.litestream;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Helpers shared by the Litestream readers. */
final class LitestreamFiles {
  private LitestreamFiles() {}

  /** The LTX whole-database checksum of a database file (every page but the lock page). */
  static long databaseChecksum(FileChannel db, int pageSize) throws IOException {
    long size = db.size();
    long pages = size / pageSize;
    int lock = LtxHeader.lockPgno(pageSize);
    int per = Math.max(1, (1 << 20) / pageSize);
    ByteBuffer buf = ByteBuffer.allocate(per * pageSize);
    long sum = 0;
    for (long p = 0; p < pages; p += per) {
      buf.clear();
      int want = (int) Math.min(per, pages - p) * pageSize;
      buf.limit(want);
      long pos = p * pageSize;
      while (buf.hasRemaining()) {
        if (db.read(buf, pos + buf.position()) < 0) throw new IOException("database shorter than its size");
      }
      byte[] a = buf.array();
      for (int i = 0; i < want / pageSize; i++) {
        int pgno = (int) (p + i + 1);
        if (pgno != lock) sum ^= Checksum.ofPage(pgno, a, i * pageSize, pageSize);
      }
    }
    return Checksum.FLAG | sum;
  }
}
