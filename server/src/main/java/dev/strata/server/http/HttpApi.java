package dev.strata.server.http;

import com.sun.net.httpserver.HttpHandler;
import dev.strata.server.BackupService;
import dev.strata.server.ServerMetrics;
import dev.strata.server.Tokens;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/** The HTTP face of a {@link BackupService}: the handler to mount and the executor to serve it with. */
public final class HttpApi implements AutoCloseable {
  private final StallGuard guard;
  private final ApiHandler handler;

  public HttpApi(BackupService service, Tokens tokens, ServerMetrics metrics, Duration stallTimeout) {
    this.guard = new StallGuard(stallTimeout);
    this.handler = new ApiHandler(new Endpoints(service), new Auth(tokens), guard, metrics);
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
