package dev.strata.server.store;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.sqlite.SQLiteConfig;

/**
 * The embedded metadata store: one SQLite file under the data directory, for a single server instance. One
 * connection writes (through {@link GroupCommitWriter}); any number read, each inside its own read transaction,
 * which in WAL mode sees one consistent state and never waits for the writer.
 */
public final class SqliteMetadataStore implements MetadataStore {
  private static final int IDLE_READERS = 16;

  private final String url;
  private final GroupCommitWriter writer;
  private final Connection writeConn;
  private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  private SqliteMetadataStore(String url, Connection writeConn) {
    this.url = url;
    this.writeConn = writeConn;
    this.writer = new GroupCommitWriter(writeConn);
  }

  /** Opens (creating if needed) the metadata database at {@code file}. */
  public static SqliteMetadataStore open(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    String url = "jdbc:sqlite:" + file.toAbsolutePath();
    try {
      Connection c = connect(url, false);
      SqliteSchema.migrate(c);
      return new SqliteMetadataStore(url, c);
    } catch (SQLException e) {
      throw new IOException("open metadata database " + file + ": " + e.getMessage(), e);
    }
  }

  private static Connection connect(String url, boolean readOnly) throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    cfg.enforceForeignKeys(true);
    cfg.setBusyTimeout(30_000);
    cfg.setJournalSizeLimit(4 * 1024 * 1024);
    cfg.setCacheSize(-8000);
    Connection c = DriverManager.getConnection(url, cfg.toProperties());
    if (readOnly) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA query_only = 1");
      }
    }
    return c;
  }

  /**
   * Runs {@code job} inside a read transaction: everything it reads is one committed state. The job may stream
   * (e.g. a snapshot to a client); the connection is its own until it returns.
   */
  @Override
  public <T> T read(SqlJob<T> job) throws IOException {
    if (closed) throw new ApiException(ErrorCode.EUNAVAILABLE, "server is shutting down");
    Connection c = idle.poll();
    try {
      if (c == null) c = connect(url, true);
      try (Statement s = c.createStatement()) {
        s.execute("BEGIN");
        try {
          return job.run(c);
        } finally {
          s.execute("ROLLBACK");
        }
      }
    } catch (SQLException e) {
      closeQuietly(c);
      c = null;
      throw new IOException("metadata read: " + e.getMessage(), e);
    } finally {
      if (c != null) release(c);
    }
  }

  private void release(Connection c) {
    if (closed || idle.size() >= IDLE_READERS) closeQuietly(c);
    else idle.add(c);
  }

  /** Queues a write; the future completes after the commit that makes it durable. */
  @Override
  public <T> CompletableFuture<T> submit(SqlJob<T> job) {
    return writer.submit(job);
  }

  /** Write transactions committed so far (each holds one or more queued jobs). */
  @Override
  public long commits() {
    return writer.commits();
  }

  @Override
  public String describe() {
    return url.substring("jdbc:sqlite:".length());
  }

  @Override
  public void close() {
    if (closed) return;
    writer.close();
    closed = true;
    for (Connection c; (c = idle.poll()) != null; ) closeQuietly(c);
    closeQuietly(writeConn);
  }

  private static void closeQuietly(Connection c) {
    if (c == null) return;
    Statements.forget(c);
    try {
      c.close();
    } catch (SQLException ignored) {
      // nothing useful to do
    }
  }
}
