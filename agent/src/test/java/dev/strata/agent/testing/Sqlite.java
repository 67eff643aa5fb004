package dev.strata.agent.testing;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

/** Databases driven from outside the agent: the sqlite3 CLI, python3, and plain JDBC connections. */
public final class Sqlite {
  private Sqlite() {}

  /** Runs SQL with the sqlite3 CLI (a separate process) and returns its output; fails on a non-zero exit. */
  public static String cli(Path db, String sql) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sqlite3", "-cmd", ".timeout 10000", db.toString(), sql)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("sqlite3 timed out: " + sql);
    }
    if (p.exitValue() != 0) throw new IOException("sqlite3 failed (" + p.exitValue() + "): " + out);
    return out;
  }

  /** Creates a WAL-mode database with a table {@code t(id INTEGER PRIMARY KEY, v TEXT)}. */
  public static void create(Path db) throws IOException, InterruptedException {
    cli(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
  }

  /** A JDBC connection with a busy timeout, as an application would open one. */
  public static Connection connect(Path db) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout=10000");
    }
    return c;
  }

  /** Inserts {@code n} rows, one transaction each, with {@code bytes} bytes of payload. */
  public static void insert(Connection c, int n, int bytes) throws SQLException {
    try (var ps = c.prepareStatement("INSERT INTO t(v) VALUES (?)")) {
      for (int i = 0; i < n; i++) {
        ps.setString(1, "x".repeat(bytes) + i);
        ps.executeUpdate();
      }
    }
  }

  /** Runs statements separated by ';' on a connection (JDBC runs one statement per call). */
  public static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String one : sql.split(";")) {
        if (!one.isBlank()) s.execute(one);
      }
    }
  }

  /**
   * The LTX checksum of a database file that is fully checkpointed (no WAL content): every page read from the
   * file and summed with {@link Checksum#ofPage}, the lock page skipped.
   */
  public static long fileChecksum(Path db) throws IOException {
    try (FileChannel ch = FileChannel.open(db, StandardOpenOption.READ)) {
      ByteBuffer hdr = ByteBuffer.allocate(100);
      ch.read(hdr, 0);
      int raw = hdr.getShort(16) & 0xFFFF;
      int pageSize = raw == 1 ? 65536 : raw;
      long pages = ch.size() / pageSize;
      int lock = LtxHeader.lockPgno(pageSize);
      long sum = Checksum.EMPTY_DATABASE;
      byte[] page = new byte[pageSize];
      for (int p = 1; p <= pages; p++) {
        ByteBuffer b = ByteBuffer.wrap(page);
        while (b.hasRemaining()) ch.read(b, (long) (p - 1) * pageSize + b.position());
        if (p != lock) sum ^= Checksum.ofPage(p, page);
      }
      return Checksum.FLAG | sum;
    }
  }

  /** Checkpoints everything into the database file and empties the WAL (run after the agent stopped). */
  public static void checkpointTruncate(Path db) throws IOException, InterruptedException {
    cli(db, "PRAGMA wal_checkpoint(TRUNCATE);");
    Files.deleteIfExists(db.resolveSibling(db.getFileName() + "-wal"));
  }
}
