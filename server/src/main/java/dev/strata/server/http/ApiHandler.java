package dev.strata.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.ServerMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes requests as litefs-backup's router does: the Authorization check runs first on every path (so an
 * unknown path without it is 401), then the path picks an endpoint; an unknown path is a plain-text 404, a known
 * path with the wrong method a 405 (with a JSON error, where chi sends none). Then the LiteFS cluster ID, if the
 * request carries one, must be the cluster's. {@code /metrics} needs no authorization. Every other error is the
 * JSON error shape; an unexpected failure is logged and answered 500 {@code EINTERNAL} without its detail.
 *
 * <p>Requests the JDK's server rejects before any handler runs (a request line or URI it cannot parse, such as a
 * bad percent-escape, a header name with illegal characters, conflicting lengths) get its own small HTML page;
 * there is no hook to change that short of another HTTP server.
 */
final class ApiHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

  @FunctionalInterface
  private interface Endpoint {
    void handle(Call call) throws IOException;
  }

  private record Route(String method, Endpoint endpoint) {}

  private final Auth auth;
  private final ClusterIds clusterIds;
  private final StallGuard guard;
  private final ServerMetrics metrics;
  private final Map<String, Route> routes;

  ApiHandler(Endpoints e, Auth auth, ClusterIds clusterIds, StallGuard guard, ServerMetrics metrics) {
    this.auth = auth;
    this.clusterIds = clusterIds;
    this.guard = guard;
    this.metrics = metrics;
    this.routes = Map.of(
        "/pos", new Route("GET", e::pos),
        "/db/tx", new Route("POST", e::tx),
        "/db/snapshot", new Route("GET", e::snapshot),
        "/db/info", new Route("GET", e::info),
        "/db/restore", new Route("POST", e::restore),
        "/db/restore/check", new Route("GET", e::restoreCheck),
        "/db/upload", new Route("POST", e::upload),
        "/db", new Route("DELETE", e::delete),
        "/db/", new Route("DELETE", e::delete));
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    AccessLine line = new AccessLine(ex);
    StallGuard.Watch watch = guard.current();
    Call call = new Call(ex, watch, null);
    try {
      if (watch != null) watch.end(); // the headers have arrived
      String path = ex.getRequestURI().getRawPath();
      if (path.equals("/metrics")) {
        metrics(ex);
        return;
      }
      call = new Call(ex, watch, auth.cluster(ex.getRequestHeaders().getFirst("Authorization")));
      Route route = routes.get(path);
      if (route == null) {
        call.send(404, "text/plain; charset=utf-8", "404 page not found\n".getBytes(StandardCharsets.UTF_8));
      } else if (!route.method().equals(ex.getRequestMethod())) {
        call.header("Allow", route.method());
        throw new ApiException(ErrorCode.EBADMETHOD, "method not allowed");
      } else {
        clusterIds.check(call.cluster(), ex.getRequestHeaders().getFirst(ClusterIds.HEADER),
            route.method().equals("POST"));
        route.endpoint().handle(call);
      }
    } catch (ApiException e) {
      line.failed(e.code());
      fail(call, e, ex);
    } catch (IOException | RuntimeException e) {
      if (watch != null && watch.fired()) {
        line.stalled();
        log.warn("{} {}: client stalled; connection closed", ex.getRequestMethod(), ex.getRequestURI().getPath());
        return;
      }
      RequestBody.Malformed malformed = RequestBody.causeOf(e);
      if (malformed != null) { // the client's fault, not the server's: no warning
        line.failed(ErrorCode.EBADREQUEST);
        fail(call, new ApiException(ErrorCode.EBADREQUEST, malformed.getMessage()), ex);
        return;
      }
      // The detail is for the operator: a client is told no more than that it was not its fault.
      log.warn("{} {}: {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.toString());
      line.failed(ErrorCode.EINTERNAL);
      fail(call, new ApiException(ErrorCode.EINTERNAL, "internal error"), ex);
    } finally {
      try {
        ex.close();
      } finally {
        line.write(call.cluster(), database(call));
      }
    }
  }

  /** The request's {@code db} parameter as sent, for the access log; null when absent or unreadable. */
  private static String database(Call call) {
    try {
      return call.param("db");
    } catch (ApiException e) {
      return null;
    }
  }

  /** Sends the error, or, when the response has begun, breaks the connection so the body reads as incomplete. */
  private static void fail(Call call, ApiException e, HttpExchange ex) {
    if (call.responded()) {
      abort(ex);
      return;
    }
    try {
      call.error(e);
    } catch (IOException ignored) {
      // the client is gone
    }
  }

  /**
   * Closes the connection without ending the body: an interrupted write on the socket channel closes it, so a
   * chunked response gets no terminating chunk.
   */
  private static void abort(HttpExchange ex) {
    Thread.currentThread().interrupt();
    try {
      ex.getResponseBody().write(0);
      ex.getResponseBody().flush();
    } catch (IOException ignored) {
      // expected: the channel is now closed
    } finally {
      Thread.interrupted();
    }
  }

  private void metrics(HttpExchange ex) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    metrics.write(buf);
    ex.getResponseHeaders().set("Content-Type", metrics.contentType());
    ex.sendResponseHeaders(200, buf.size());
    ex.getResponseBody().write(buf.toByteArray());
  }
}
