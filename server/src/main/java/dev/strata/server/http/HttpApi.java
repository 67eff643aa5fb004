package dev.strata.server.http;

import dev.strata.server.BackupService;
import dev.strata.server.ServerMetrics;
import dev.strata.server.Tokens;
import dev.strata.server.store.MetadataStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The HTTP face of a {@link BackupService}: a Jetty 12 server (its core API, no servlets) with one handler.
 *
 * <p>Why Jetty and not the JDK's {@code com.sun.net.httpserver}: every error this server answers must be the API's
 * JSON error shape (a 4xx for a client's fault), and the JDK's server refuses some malformed requests before any
 * handler runs (a bad percent-escape, an illegal header name, conflicting lengths, an unknown Transfer-Encoding)
 * with an HTML page naming a Java exception, and has no hook to change that. Jetty hands every error it produces
 * itself (request line, URI, headers too large, chunking) to an error handler: {@link JsonErrors}. Jetty also
 * gives a per-connection idle timeout, which replaces the thread-interrupting stall guard the JDK's server needed.
 * The cost is 2.2 MiB of jars (jetty-server, -http, -io, -util 12.1.12); S3Proxy, which the tests run, is built on
 * the same version.
 *
 * <p>Handlers run on virtual threads, one per request, and block on the request and response streams.
 */
public final class HttpApi implements AutoCloseable {
  /** How long {@link #close} waits for requests in flight. */
  private static final long STOP_TIMEOUT_MS = 1_000;

  private final org.eclipse.jetty.server.Server jetty;
  private final ServerConnector connector;
  private final ExecutorService handlerThreads =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("strata-http-", 0).factory());

  /**
   * Binds {@code bind} (port 0: any free port) and serves HTTPS with {@code tls}, or plain HTTP when it is null; a
   * client that sends or reads nothing for {@code stallTimeout} is disconnected. {@code store}: the one {@code
   * service} works on, where the cluster IDs LiteFS sends are recorded. Serving starts with {@link #start}.
   */
  public HttpApi(BackupService service, MetadataStore store, Tokens tokens, ServerMetrics metrics,
      InetSocketAddress bind, SSLContext tls, Duration stallTimeout) throws IOException {
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setName("strata-http");
    threads.setVirtualThreadsExecutor(handlerThreads); // Jetty runs blocking handlers there
    jetty = new org.eclipse.jetty.server.Server(threads);
    jetty.setStopTimeout(STOP_TIMEOUT_MS);
    jetty.setErrorHandler(new JsonErrors());
    ClusterIds clusterIds = new ClusterIds(store);
    ApiHandler api = new ApiHandler(new Endpoints(service, clusterIds), new Auth(tokens), clusterIds, metrics);
    jetty.setHandler(new GracefulHandler(api)); // lets stop wait for requests in flight

    HttpConfiguration config = new HttpConfiguration();
    config.setSendServerVersion(false);
    HttpConnectionFactory http = new HttpConnectionFactory(config);
    if (tls == null) {
      connector = new ServerConnector(jetty, http);
    } else {
      SslContextFactory.Server ssl = new SslContextFactory.Server();
      ssl.setSslContext(tls);
      connector = new ServerConnector(jetty, new SslConnectionFactory(ssl, http.getProtocol()), http);
    }
    connector.setHost(bind.getHostString());
    connector.setPort(bind.getPort());
    connector.setAcceptQueueSize(1024);
    // Small responses (headers only, for /db/tx) must not wait for Nagle's algorithm and the client's delayed ACK.
    connector.setAcceptedTcpNoDelay(true);
    // The stall timeout: a read or write that makes no progress for this long fails, and so does a connection that
    // sends no (complete) request. Server-side work (the metadata writer, storage) is not I/O and is not cut off.
    connector.setIdleTimeout(stallTimeout.toMillis());
    jetty.addConnector(connector);
    connector.open(); // bind now, so that a port in use fails the server's construction
  }

  /** Starts serving. */
  public void start() throws IOException {
    try {
      jetty.start();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("HTTP server: " + e.getMessage(), e);
    }
  }

  /** The bound address (the actual port when bound to port 0). */
  public InetSocketAddress address() {
    return new InetSocketAddress(connector.getHost(), connector.getLocalPort());
  }

  /** Stops accepting connections, waits up to a second for requests in flight, then closes the rest. */
  @Override
  public void close() {
    try {
      jetty.stop();
    } catch (Exception e) {
      // stopping cut off what was still running; nothing more to do
    } finally {
      handlerThreads.shutdownNow();
    }
  }
}
