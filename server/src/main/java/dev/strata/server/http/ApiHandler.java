package dev.strata.server.http;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.ServerMetrics;
import dev.strata.server.store.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes requests as litefs-backup's router does: the Authorization check runs first on every path (so an
 * unknown path without it is 401), then the path picks an endpoint; an unknown path is a plain-text 404, a known
 * path with the wrong method a 405 (with a JSON error, where chi sends none). Then the LiteFS cluster ID, if the
 * request carries one, must be the cluster's. {@code /metrics} needs no authorization. Every other error is the
 * JSON error shape; a storage failure is logged and answered 503 {@code EUNAVAILABLE} with its one-line cause (LiteFS
 * and people retry), any other unexpected failure is logged and answered 500 {@code EINTERNAL} without its detail. (The
 * errors Jetty answers itself, for requests it cannot parse, are {@link JsonErrors}'.)
 *
 * <p>Runs on a virtual thread per request and blocks on the body streams. A client that stalls (Jetty's idle
 * timeout fails the read or write) or an error after the response has begun closes the connection, so that a
 * partial response cannot pass for a whole one.
 */
final class ApiHandler extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

  @FunctionalInterface
  private interface Endpoint {
    void handle(Call call) throws IOException;
  }

  private record Route(String method, Endpoint endpoint) {}

  private final Auth auth;
  private final ClusterIds clusterIds;
  private final ServerMetrics metrics;
  private final Map<String, Route> routes;

  ApiHandler(Endpoints e, Auth auth, ClusterIds clusterIds, ServerMetrics metrics) {
    this.auth = auth;
    this.clusterIds = clusterIds;
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
  public boolean handle(Request request, Response response, Callback callback) {
    String method = request.getMethod(), path = request.getHttpURI().getPath();
    AccessLine line = new AccessLine(method, path);
    Call call = new Call(request, response, line, null);
    Throwable broken = null; // set when the connection must be closed instead of ending the response
    try {
      if (path.equals("/metrics")) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        metrics.write(buf);
        call.send(200, metrics.contentType(), buf.toByteArray());
        return true;
      }
      call = call.from(auth.cluster(request.getHeaders().get(HttpHeader.AUTHORIZATION)));
      Route route = routes.get(path);
      if (route == null) {
        call.send(404, "text/plain; charset=utf-8", "404 page not found\n".getBytes(StandardCharsets.UTF_8));
      } else if (!route.method().equals(method)) {
        call.header("Allow", route.method());
        throw new ApiException(ErrorCode.EBADMETHOD, "method not allowed");
      } else {
        clusterIds.check(call.cluster(), request.getHeaders().get(ClusterIds.HEADER), method.equals("POST"));
        route.endpoint().handle(call);
      }
    } catch (ApiException e) {
      line.failed(e.code());
      broken = fail(call, e);
    } catch (IOException | RuntimeException e) {
      // Jetty's idle timeout (the stall timeout) failed a read or write.
      if (causeOf(e, TimeoutException.class) != null) {
        line.stalled();
        log.warn("{} {}: client stalled; connection closed", method, path);
        broken = e;
      } else if (causeOf(e, RequestBody.Malformed.class) instanceof RequestBody.Malformed malformed) {
        line.failed(ErrorCode.EBADREQUEST); // the client's fault, not the server's: no warning
        broken = fail(call, new ApiException(ErrorCode.EBADREQUEST, malformed.getMessage()));
      } else if (causeOf(e, StorageException.class) instanceof StorageException storage) {
        // Storage failed after its client's retries: worth retrying, and the cause is the operator's to fix.
        log.warn("{} {}: {}", method, path, e.getMessage());
        line.failed(ErrorCode.EUNAVAILABLE);
        broken = fail(call, new ApiException(ErrorCode.EUNAVAILABLE, "storage unavailable: " + storage.getMessage()));
      } else {
        // The detail is for the operator: a client is told no more than that it was not its fault.
        log.warn("{} {}: {}", method, path, e.toString());
        line.failed(ErrorCode.EINTERNAL);
        broken = fail(call, new ApiException(ErrorCode.EINTERNAL, "internal error"));
      }
    } catch (Error e) { // out of memory, say: close the connection rather than let an empty answer pass for success
      line.failed(ErrorCode.EINTERNAL);
      broken = e;
      throw e;
    } finally {
      if (broken == null) {
        callback.succeeded();
      } else {
        request.getConnectionMetaData().getConnection().getEndPoint().close(broken);
        callback.failed(new QuietException.Exception(broken)); // quiet: logged above when it matters
      }
      line.write(call.status(), call.cluster(), database(call));
    }
    return true;
  }

  /** The first exception of {@code type} in {@code e}'s cause chain ({@code e} itself included), or null. */
  private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) return type.cast(t);
    }
    return null;
  }

  /** The request's {@code db} parameter as sent, for the access log; null when absent or unreadable. */
  private static String database(Call call) {
    try {
      return call.param("db");
    } catch (ApiException e) {
      return null;
    }
  }

  /**
   * Sends the error; returns null when it was sent, or why the connection must be closed instead: the response had
   * begun (closing it keeps a cut-off body from reading as complete), or the client is gone.
   */
  private static Throwable fail(Call call, ApiException e) {
    if (call.responded()) return e;
    try {
      call.error(e);
      return null;
    } catch (IOException gone) {
      return gone;
    }
  }
}
