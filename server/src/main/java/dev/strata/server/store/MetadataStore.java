package dev.strata.server.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The server's metadata: databases, accepted transactions with their pages (level-0 staging), compaction requests,
 * job leases and the catalogue of storage files. Two stores hold it with the same tables and queries
 * ({@link Rows}): embedded SQLite for one instance ({@link SqliteMetadataStore}), PostgreSQL for any number of
 * instances sharing it ({@link PostgresMetadataStore}).
 */
public interface MetadataStore extends AutoCloseable {

  /**
   * Opens the store {@code url} names: null for the embedded SQLite file under {@code dataDir}, else a
   * {@code postgres://} URL.
   */
  static MetadataStore open(String url, Path dataDir) throws IOException {
    if (url == null) return SqliteMetadataStore.open(dataDir.resolve("server.db"));
    return PostgresMetadataStore.open(url);
  }

  /**
   * Runs {@code job} inside a read transaction: everything it reads is one committed state. The job may stream
   * (e.g. a snapshot to a client); the connection is its own until it returns.
   */
  <T> T read(SqlJob<T> job) throws IOException;

  /**
   * Queues a write transaction; the future completes after the commit that makes it durable, or with the job's
   * exception (nothing of it committed).
   */
  <T> CompletableFuture<T> submit(SqlJob<T> job);

  /** Runs a write and waits for it to be durable; rethrows the job's own exception. */
  default <T> T write(SqlJob<T> job) throws IOException {
    return await(submit(job));
  }

  /** Write transactions committed so far by this instance. */
  long commits();

  /** Where the metadata is, for logs: a path, or a URL without its password. */
  String describe();

  /** Finishes queued writes, then releases connections. */
  @Override
  void close();

  /** Waits for a queued write; rethrows its {@link dev.strata.server.ApiException}, {@link IOException} or runtime exception. */
  static <T> T await(CompletableFuture<T> f) throws IOException {
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
}
