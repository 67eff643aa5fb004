package dev.strata.replica.restore;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** How thoroughly SQLite checks a restored database before it is renamed into place. */
public enum IntegrityCheck {
  /** No SQLite check; the database checksum is still verified. */
  NONE,
  /** {@code PRAGMA quick_check}: structure without index contents; linear in the database size. */
  QUICK,
  /** {@code PRAGMA integrity_check}: also checks that every index matches its table. */
  FULL;

  /** Parses {@code none}, {@code quick} or {@code full}. */
  public static IntegrityCheck parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid integrity check \"" + text + "\" (want none, quick or full)");
    }
  }

  /**
   * Loads SQLite (the system library of {@link ReadAheadSqlite}, else the JDBC driver and its native library) on a
   * daemon thread, so that the few hundred milliseconds the first connection of a JVM takes overlap with the merge
   * instead of delaying the check. Does nothing for {@link #NONE}; a failure here is left for {@link #run} to report.
   */
  void preload() {
    if (this == NONE) return;
    Thread.ofPlatform().daemon().name("restore-sqlite-load").start(() -> {
      if (ReadAheadSqlite.available()) return; // the driver is then only needed to confirm a failed check
      try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:")) {
        // loaded
      } catch (SQLException | RuntimeException | LinkageError e) {
        // run() opens its own connection and reports what goes wrong
      }
    });
  }

  /**
   * Runs the check on a database file that nothing else uses; throws an {@link IOException} with SQLite's first
   * complaints when it fails. Opens the file immutable, so that no -wal or -shm file is created beside it.
   */
  public void run(Path db) throws IOException {
    if (this == NONE) return;
    String pragma = this == QUICK ? "PRAGMA quick_check" : "PRAGMA integrity_check";
    List<String> problems = ReadAheadSqlite.check(db, pragma);
    if (problems == null || !problems.equals(List.of("ok"))) problems = runBundled(db, pragma);
    if (!problems.equals(List.of("ok"))) {
      throw new IOException(pragma + " failed on " + db + ": " + String.join("; ", problems));
    }
  }

  /** The check through the bundled JDBC driver's SQLite: its first rows (at most 5). */
  private static List<String> runBundled(Path db, String pragma) throws IOException {
    List<String> problems = new ArrayList<>();
    String url = "jdbc:sqlite:file:" + db.toAbsolutePath().toUri().getRawPath() + "?immutable=1";
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      // Plain reads, not mmap: a mapped database counts in the restore's resident memory page by page (a 256 MiB
      // database: 259 MiB peak RSS for quick_check with mmap, 6 MiB without), and saves only ~0.2 s per GiB.
      try (ResultSet r = s.executeQuery(pragma)) {
        while (r.next() && problems.size() < 5) problems.add(r.getString(1));
      }
    } catch (SQLException e) {
      throw new IOException(pragma + " could not run on " + db + ": " + e.getMessage(), e);
    }
    return problems;
  }
}
