package dev.strata.server.store;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of the metadata database. Jobs queue up and run on one thread; whatever has queued while a
 * transaction committed runs together in the next one, each job inside its own savepoint, so that one fsync makes
 * many uploads durable (group commit) and a failing job undoes only itself. A job's future completes after the
 * COMMIT that made it durable.
 */
final class GroupCommitWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);
  private static final int MAX_BATCH = 64;

  private final java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();
  private final Connection conn;
  private final BlockingQueue<Job<?>> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  private record Job<T>(SqlJob<T> work, CompletableFuture<T> done) {}

  private static final Job<Void> STOP = new Job<>(c -> null, new CompletableFuture<>());

  GroupCommitWriter(Connection conn) {
    this.conn = conn;
    this.thread = Thread.ofPlatform().name("strata-metadata-writer").daemon().start(this::loop);
  }

  /** Queues a job; its future completes once the job's effects are committed, or with the job's exception. */
  synchronized <T> CompletableFuture<T> submit(SqlJob<T> work) {
    CompletableFuture<T> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new ApiException(ErrorCode.EUNAVAILABLE, "server is shutting down"));
      return done;
    }
    queue.add(new Job<>(work, done));
    return done;
  }

  private void loop() {
    List<Job<?>> batch = new ArrayList<>();
    while (true) {
      batch.clear();
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      boolean stop = batch.remove(STOP);
      if (!batch.isEmpty()) runBatch(batch);
      if (stop) {
        failRemaining();
        return;
      }
    }
  }

  private void runBatch(List<Job<?>> batch) {
    Object[] results = new Object[batch.size()];
    Throwable[] errors = new Throwable[batch.size()];
    try (Statement s = conn.createStatement()) {
      s.execute("BEGIN IMMEDIATE");
      for (int i = 0; i < batch.size(); i++) {
        s.execute("SAVEPOINT job");
        try {
          results[i] = batch.get(i).work().run(conn);
          s.execute("RELEASE job");
        } catch (Throwable t) {
          errors[i] = t;
          s.execute("ROLLBACK TO job");
          s.execute("RELEASE job");
        }
      }
      s.execute("COMMIT");
      commits.incrementAndGet();
    } catch (SQLException e) {
      log.error("metadata commit failed: {}", e.getMessage());
      try (Statement s = conn.createStatement()) {
        s.execute("ROLLBACK");
      } catch (SQLException ignored) {
        // no transaction was open
      }
      for (int i = 0; i < batch.size(); i++) {
        if (errors[i] == null) errors[i] = new ApiException(ErrorCode.EINTERNAL, "metadata commit: " + e.getMessage());
      }
    }
    for (int i = 0; i < batch.size(); i++) complete(batch.get(i), results[i], errors[i]);
  }

  @SuppressWarnings("unchecked")
  private static <T> void complete(Job<T> job, Object result, Throwable error) {
    if (error != null) job.done().completeExceptionally(error);
    else job.done().complete((T) result);
  }

  private void failRemaining() {
    List<Job<?>> rest = new ArrayList<>();
    queue.drainTo(rest);
    for (Job<?> j : rest) {
      j.done().completeExceptionally(new ApiException(ErrorCode.EUNAVAILABLE, "server is shutting down"));
    }
  }

  /** Transactions committed so far. */
  long commits() {
    return commits.get();
  }

  /** Runs what is queued, then stops. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) return;
      closed = true;
      queue.add(STOP);
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
