package dev.strata.bench.torture;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The LTX database checksum of a SQLite file, computed here independently of Strata's restore: the XOR of every
 * page's checksum but the lock page's, with the flag bit set. Equal to the PostApplyChecksum of the state the
 * file holds.
 */
final class DatabaseChecksum {
  private DatabaseChecksum() {}

  static long of(Path db) throws IOException {
    try (InputStream in = Files.newInputStream(db)) {
      byte[] first = in.readNBytes(100);
      if (first.length == 0) return Checksum.EMPTY_DATABASE;
      if (first.length < 100) throw new IOException(db + ": not a SQLite file (" + first.length + " bytes)");
      int raw = (first[16] & 0xFF) << 8 | (first[17] & 0xFF);
      int pageSize = raw == 1 ? 65536 : raw;
      if (!LtxHeader.isValidPageSize(pageSize)) throw new IOException(db + ": bad page size " + raw);
      int lock = LtxHeader.lockPgno(pageSize);
      byte[] page = new byte[pageSize];
      System.arraycopy(first, 0, page, 0, 100);
      int n = 100 + in.readNBytes(page, 100, pageSize - 100);
      long sum = 0;
      for (int pgno = 1; n == pageSize; pgno++) {
        if (pgno != lock) sum ^= Checksum.ofPage(pgno, page);
        n = in.readNBytes(page, 0, pageSize);
      }
      if (n != 0) throw new IOException(db + ": size is not a multiple of the page size " + pageSize);
      return Checksum.FLAG | sum;
    }
  }
}
