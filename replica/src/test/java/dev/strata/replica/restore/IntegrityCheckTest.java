package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IntegrityCheckTest {
  @TempDir Path dir;

  @Test
  void aHealthyDatabasePassesBothChecksAndADamagedOneFailsNamingTheFile() throws Exception {
    Path db = database(dir, "healthy.db", 4000);
    IntegrityCheck.QUICK.run(db);
    IntegrityCheck.FULL.run(db);
    IntegrityCheck.NONE.run(db);

    // A leaf page of the table with its cell count overwritten: the b-tree no longer holds together.
    Path damaged = dir.resolve("damaged.db");
    Files.copy(db, damaged);
    try (FileChannel ch = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
      long page = Files.size(damaged) / 4096 / 2; // somewhere in the middle of the table's leaves
      ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF, (byte) 0x7F}), page * 4096 + 3);
    }
    assertThatThrownBy(() -> IntegrityCheck.QUICK.run(damaged))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("PRAGMA quick_check ") // "failed on" or "could not run on", as SQLite reports it
        .hasMessageContaining(damaged.toString());
  }

  @Test
  void aDatabaseWithoutTablesPasses() throws Exception {
    Path db = dir.resolve("empty.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA user_version = 7"); // writes the header page, and nothing else
    }
    IntegrityCheck.QUICK.run(db);
    IntegrityCheck.FULL.run(db);
  }

  /** A table of {@code rows} rows of 900 bytes with an index, in {@code dir/name}. */
  static Path database(Path dir, String name, int rows) throws Exception {
    Path db = dir.resolve(name);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA page_size = 4096");
      s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB NOT NULL, k TEXT)");
      s.execute("CREATE INDEX t_k ON t(k)");
      s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + rows + ")"
          + " INSERT INTO t(v, k) SELECT randomblob(900), hex(randomblob(8)) FROM n");
    }
    return db;
  }
}
