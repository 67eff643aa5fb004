package dev.strata.replica.follow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page writer against real SQLite (the sqlite3 command, another process, as readers are): a batch lands whole,
 * and a writer killed after the journal and part of the pages leaves a hot journal that SQLite itself plays back,
 * as does {@link JournaledDatabase#open}.
 */
class JournaledDatabaseTest {
  @TempDir Path dir;

  static String sqlite(Path db, String sql) throws Exception {
    Process p = new ProcessBuilder("sqlite3", "-cmd", ".timeout 5000", db.toString(), sql).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  /** A (10 rows) and B (A plus 2000 rows, larger), both in rollback mode. */
  private Path[] twoStates() throws Exception {
    Path a = dir.resolve("a.db");
    sqlite(a, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1"
        + " FROM c WHERE i<10) INSERT INTO t(v) SELECT hex(randomblob(50)) FROM c;");
    Path b = dir.resolve("b.db");
    Files.copy(a, b);
    sqlite(b, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000) INSERT INTO t(v)"
        + " SELECT hex(randomblob(50)) FROM c; CREATE INDEX tv ON t(v);");
    return new Path[] {a, b};
  }

  /** The pages of {@code from} that differ from {@code to}'s, all of them past its end; fails at {@code failAt}. */
  private static JournaledDatabase.Pages pagesOf(Path from, Path to, int failAt) throws IOException {
    byte[] src = Files.readAllBytes(from);
    byte[] dst = Files.readAllBytes(to);
    List<Integer> pgnos = new ArrayList<>();
    for (int p = 1; p <= src.length / 4096; p++) {
      int off = (p - 1) * 4096;
      if (off + 4096 > dst.length || !Arrays.equals(src, off, off + 4096, dst, off, off + 4096)) pgnos.add(p);
    }
    int[] order = pgnos.stream().mapToInt(Integer::intValue).toArray();
    return new JournaledDatabase.Pages() {
      int n;

      @Override
      public int[] pgnos() {
        return order;
      }

      @Override
      public void read(int pgno, byte[] buf) throws IOException {
        if (++n == failAt) throw new IOException("killed");
        System.arraycopy(src, (pgno - 1) * 4096, buf, 0, 4096);
      }
    };
  }

  @Test
  void aBatchLandsWholeAndSqliteReadsIt() throws Exception {
    Path[] s = twoStates();
    int commit = (int) (Files.size(s[1]) / 4096);
    try (JournaledDatabase db = JournaledDatabase.open(s[0], 4096)) {
      db.apply(pagesOf(s[1], s[0], -1), commit, () -> {});
    }
    assertThat(Files.readAllBytes(s[0])).isEqualTo(Files.readAllBytes(s[1]));
    assertThat(dir.resolve("a.db-journal")).isEmptyFile(); // committed as journal_mode=TRUNCATE does
    assertThat(sqlite(s[0], "PRAGMA integrity_check; SELECT count(*) FROM t;")).isEqualTo("ok\n2010");
  }

  @Test
  void aShrinkingBatchTruncates() throws Exception {
    Path[] s = twoStates();
    int commit = (int) (Files.size(s[0]) / 4096);
    try (JournaledDatabase db = JournaledDatabase.open(s[1], 4096)) {
      db.apply(pagesOf(s[0], s[1], -1), commit, () -> {});
    }
    assertThat(Files.readAllBytes(s[1])).isEqualTo(Files.readAllBytes(s[0]));
    assertThat(sqlite(s[1], "PRAGMA integrity_check; SELECT count(*) FROM t;")).isEqualTo("ok\n10");
  }

  @Test
  void aWriterKilledMidBatchIsRolledBackBySqlite() throws Exception {
    Path[] s = twoStates();
    byte[] before = Files.readAllBytes(s[1]);
    int commit = (int) (Files.size(s[0]) / 4096);
    JournaledDatabase db = JournaledDatabase.open(s[1], 4096);
    // shrinking: pages overwritten and a truncation pending, both undone by the journal
    assertThatThrownBy(() -> db.apply(pagesOf(s[0], s[1], 2), commit, () -> {})).hasMessage("killed");
    db.close(); // the process is gone: its locks with it
    assertThat(dir.resolve("b.db-journal")).exists();
    assertThat(sqlite(s[1], "PRAGMA integrity_check; SELECT count(*) FROM t;")).isEqualTo("ok\n2010");
    assertThat(dir.resolve("b.db-journal")).doesNotExist();
    assertThat(Files.readAllBytes(s[1])).isEqualTo(before);
  }

  @Test
  void aWriterKilledMidBatchIsRolledBackOnOpen() throws Exception {
    Path[] s = twoStates();
    byte[] before = Files.readAllBytes(s[0]);
    int commit = (int) (Files.size(s[1]) / 4096);
    JournaledDatabase db = JournaledDatabase.open(s[0], 4096);
    // growing: pages past the old end are cut off again
    assertThatThrownBy(() -> db.apply(pagesOf(s[1], s[0], 6), commit, () -> {})).hasMessage("killed");
    db.close();
    try (RandomAccessFile f = new RandomAccessFile(s[0].toFile(), "r")) {
      assertThat(f.length()).isGreaterThanOrEqualTo(before.length);
    }
    JournaledDatabase.open(s[0], 4096).close();
    assertThat(dir.resolve("a.db-journal")).isEmptyFile();
    assertThat(Files.readAllBytes(s[0])).isEqualTo(before);
    assertThat(sqlite(s[0], "PRAGMA integrity_check; SELECT count(*) FROM t;")).isEqualTo("ok\n10");
  }
}
