package dev.strata.server.store;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import org.sqlite.SQLiteConfig;

/**
 * The metadata database: databases, accepted transactions with their pages (level 0), compaction requests. One
 * connection writes (through {@link GroupCommitWriter}); any number read, each inside its own read transaction,
 * which in WAL mode sees one consistent state and never waits for the writer.
 */
public final class MetadataStore implements AutoCloseable {
  private static final int IDLE_READERS = 16;

  private final String url;
  private final GroupCommitWriter writer;
  private final Connection writeConn;
  private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  private MetadataStore(String url, Connection writeConn) {
    this.url = url;
    this.writeConn = writeConn;
    this.writer = new GroupCommitWriter(writeConn);
  }

  /** Opens (creating if needed) the metadata database at {@code file}. */
  public static MetadataStore open(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    String url = "jdbc:sqlite:" + file.toAbsolutePath();
    try {
      Connection c = connect(url, false);
      Schema.migrate(c);
      return new MetadataStore(url, c);
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
  public <T> CompletableFuture<T> submit(SqlJob<T> job) {
    return writer.submit(job);
  }

  /** Write transactions committed so far (each holds one or more queued jobs). */
  public long commits() {
    return writer.commits();
  }

  /** Runs a write and waits for it to be durable; rethrows the job's own exception. */
  public <T> T write(SqlJob<T> job) throws IOException {
    return await(submit(job));
  }

  /** Waits for a queued write; rethrows its {@link ApiException}, {@link IOException} or runtime exception. */
  public static <T> T await(CompletableFuture<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for the metadata writer", e);
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      switch (t) {
        case IOException io -> throw io;
        case RuntimeException r -> throw r;
        case SQLException s -> throw new IOException("metadata: " + s.getMessage(), s);
        case Error err -> throw err;
        default -> throw new UncheckedIOException(new IOException(t));
      }
    }
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
