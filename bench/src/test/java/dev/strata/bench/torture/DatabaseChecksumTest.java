package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxHeader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness's own database checksum equals the one an LTX snapshot of the same pages carries. */
class DatabaseChecksumTest {
  @TempDir Path dir;

  @Test
  void equalsTheSnapshotChecksumOfTheSamePages() throws IOException {
    Path db = dir.resolve("t.db");
    CommandRun r = CommandRun.run(List.of("/usr/bin/sqlite3", db.toString(), "PRAGMA page_size=1024;"
        + "CREATE TABLE t(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<3000) "
        + "INSERT INTO t SELECT randomblob(100) FROM c;"), Duration.ofMinutes(1), dir.resolve("sqlite3"));
    assertThat(r.exit()).isZero();
    int pageSize = 1024;
    int pages = (int) (Files.size(db) / pageSize);
    LtxEncoder enc = new LtxEncoder(new ByteArrayOutputStream(), LtxHeader.of(0, pageSize, pages, 1, 1, 0, 0));
    byte[] page = new byte[pageSize];
    try (InputStream in = Files.newInputStream(db)) {
      for (int pgno = 1; pgno <= pages; pgno++) {
        assertThat(in.readNBytes(page, 0, pageSize)).isEqualTo(pageSize);
        enc.encodePage(pgno, page);
      }
    }
    assertThat(DatabaseChecksum.of(db)).isEqualTo(enc.pagesChecksum());
  }
}
