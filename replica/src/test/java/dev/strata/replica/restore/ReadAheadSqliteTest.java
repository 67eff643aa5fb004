package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The integrity check through the system's SQLite with read-ahead: the same verdicts as the bundled driver. */
class ReadAheadSqliteTest {
  @TempDir Path dir;

  @BeforeAll
  static void systemLibrary() {
    // CI installs sqlite3 and with it libsqlite3.so.0: there the fast path must load, not silently fall back.
    assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libsqlite3.so.0")));
    assertThat(ReadAheadSqlite.available()).isTrue();
  }

  @Test
  void aHealthyDatabaseIsOkThroughTheWindowsForBothChecks() throws Exception {
    Path db = database("healthy.db", 6000);
    long fills = ReadAheadSqlite.WINDOW_FILLS.get();
    assertThat(ReadAheadSqlite.check(db, "PRAGMA quick_check")).containsExactly("ok");
    assertThat(ReadAheadSqlite.check(db, "PRAGMA integrity_check")).containsExactly("ok");
    assertThat(ReadAheadSqlite.WINDOW_FILLS.get() - fills).as("reads served from windows").isGreaterThan(10);
    assertThat(ReadAheadSqlite.openFiles()).isZero();
  }

  @Test
  void damageAnywhereIsReportedAsTheBundledDriverReportsIt() throws Exception {
    Path db = database("source.db", 3000);
    long pages = Files.size(db) / 4096;
    // Pages at the start, the middle and the last one (whose window is cut short by the end of the file).
    for (long page : new long[] {2, pages / 3, pages / 2, pages - 1}) {
      Path damaged = dir.resolve("damaged-" + page + ".db");
      Files.copy(db, damaged);
      try (FileChannel ch = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF, (byte) 0x7F, 0x11, 0x22}), page * 4096 + 3);
      }
      List<String> fast = ReadAheadSqlite.check(damaged, "PRAGMA integrity_check");
      List<String> bundled = bundled(damaged, "PRAGMA integrity_check");
      assertThat(bundled).as("page %d", page).isNotEqualTo(List.of("ok"));
      assertThat(fast).as("page %d", page).isNotEqualTo(List.of("ok")); // null (could not run) or SQLite's complaints
    }
    assertThat(ReadAheadSqlite.openFiles()).isZero();
  }

  @Test
  void aFileCutShortIsNeverOk() throws Exception {
    Path db = database("cut.db", 2000);
    try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 4096 * 7 - 100); // mid-page: reads near the end come back short
    }
    assertThat(ReadAheadSqlite.check(db, "PRAGMA quick_check")).isNotEqualTo(List.of("ok"));
    assertThat(ReadAheadSqlite.openFiles()).isZero();
  }

  @Test
  void checksOnSeveralThreadsKeepTheirFilesApart() throws Exception {
    List<Path> dbs = new ArrayList<>();
    for (int i = 0; i < 4; i++) dbs.add(database("t" + i + ".db", 1500 + 500 * i));
    Path damaged = dir.resolve("t-damaged.db");
    Files.copy(dbs.get(3), damaged);
    try (FileChannel ch = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF, (byte) 0x7F}), Files.size(damaged) / 4096 / 2 * 4096 + 3);
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(5)) {
      List<Future<List<String>>> healthy = new ArrayList<>();
      List<Future<List<String>>> broken = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        for (Path db : dbs) healthy.add(pool.submit(() -> ReadAheadSqlite.check(db, "PRAGMA quick_check")));
        broken.add(pool.submit(() -> ReadAheadSqlite.check(damaged, "PRAGMA quick_check")));
      }
      for (Future<List<String>> f : healthy) assertThat(f.get()).containsExactly("ok");
      for (Future<List<String>> f : broken) assertThat(f.get()).isNotEqualTo(List.of("ok"));
    }
    assertThat(ReadAheadSqlite.openFiles()).isZero();
  }

  /** Tables and an index with rows deleted here and there and overflow pages, so reads jump about. */
  private Path database(String name, int rows) throws Exception {
    Path db = IntegrityCheckTest.database(dir, name, rows);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, v BLOB)");
      s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)"
          + " INSERT INTO big(v) SELECT randomblob(20000) FROM n");
      s.execute("DELETE FROM t WHERE id % 7 = 0");
      s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + rows / 5 + ")"
          + " INSERT INTO t(v, k) SELECT randomblob(300), hex(randomblob(8)) FROM n");
    }
    return db;
  }

  private static List<String> bundled(Path db, String pragma) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db.toUri().getRawPath() + "?immutable=1");
        Statement s = c.createStatement();
        var r = s.executeQuery(pragma)) {
      while (r.next() && rows.size() < 5) rows.add(r.getString(1));
    } catch (java.sql.SQLException e) {
      rows.add(e.getMessage());
    }
    return rows;
  }
}
