package dev.strata.server.http;

import com.sun.net.httpserver.HttpHandler;
import dev.strata.server.BackupService;
import dev.strata.server.ServerMetrics;
import dev.strata.server.Tokens;
import dev.strata.server.store.MetadataStore;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/** The HTTP face of a {@link BackupService}: the handler to mount and the executor to serve it with. */
public final class HttpApi implements AutoCloseable {
  private final StallGuard guard;
  private final ApiHandler handler;

  /** {@code store}: the one {@code service} works on, where the cluster IDs LiteFS sends are recorded. */
  public HttpApi(BackupService service, MetadataStore store, Tokens tokens, ServerMetrics metrics,
      Duration stallTimeout) {
    this.guard = new StallGuard(stallTimeout);
    ClusterIds clusterIds = new ClusterIds(store);
    this.handler = new ApiHandler(new Endpoints(service, clusterIds), new Auth(tokens), clusterIds, guard, metrics);
  }

  /** The handler for the context {@code /}. */
  public HttpHandler handler() {
    return handler;
  }

  /** Runs each exchange on {@code threads} (virtual threads) under the stall guard. */
  public Executor executor(ExecutorService threads) {
    return task -> threads.execute(guard.watching(task));
  }

  @Override
  public void close() {
    guard.close();
  }
}
