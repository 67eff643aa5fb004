package dev.strata.server.http;

import dev.strata.server.ApiException;
import dev.strata.server.BackupService;
import dev.strata.server.ErrorCode;
import dev.strata.server.GoJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** One request being answered: its authenticated cluster, query parameters, body, and response helpers. */
final class Call {
  static final String JSON = "application/json";
  /** The most of an unread request body read (and dropped) to keep the connection; see {@link #drainBody}. */
  private static final long DRAIN_LIMIT = 64 * 1024;

  private final Request request;
  private final Response response;
  private final AccessLine line;
  private final String cluster;
  private Map<String, String> query;
  private int status = -1;

  Call(Request request, Response response, AccessLine line, String cluster) {
    this.request = request;
    this.response = response;
    this.line = line;
    this.cluster = cluster;
  }

  /** The same request, now known to come from {@code cluster}. */
  Call from(String cluster) {
    return new Call(request, response, line, cluster);
  }

  /** The cluster named by the Authorization header. */
  String cluster() {
    return cluster;
  }

  /** The first value of a query parameter, "" when absent (as Go's {@code Query().Get}). */
  String param(String name) {
    return query().getOrDefault(name, "");
  }

  /** True when the parameter is present, whatever its value (Go's {@code Query().Has}). */
  boolean has(String name) {
    return query().containsKey(name);
  }

  private Map<String, String> query() {
    if (query == null) query = parseQuery(request.getHttpURI().getQuery());
    return query;
  }

  /** The request body; its read failures are the client's ({@link RequestBody}). */
  InputStream body() {
    return new RequestBody(line.countIn(Request.asInputStream(request)));
  }

  /** True once the status has been sent (or is about to be); errors after that can only abort the response. */
  boolean responded() {
    return status >= 0;
  }

  /** The status sent, −1 before any. */
  int status() {
    return status;
  }

  /** 200 with an indented JSON body (Go's MarshalIndent). */
  void json(Object value) throws IOException {
    send(200, JSON, GoJson.indented(value));
  }

  /** A status with no body. */
  void empty(int status) throws IOException {
    start(status, null, 0).close();
  }

  /** Sets a response header; call before responding. */
  void header(String name, String value) {
    response.getHeaders().put(name, value);
  }

  /** Starts a streamed 200 response; {@code length} −1 when unknown (chunked). The caller closes the stream. */
  OutputStream stream(String contentType, long length) {
    return start(200, contentType, length);
  }

  /** An error as litefs-backup sends it: compact JSON and a newline. */
  void error(ApiException e) throws IOException {
    send(e.code().status(), JSON, errorBody(e));
  }

  /** The body of an error response: {@code {"code":…,"error":…}} (and {@code pos}) as compact JSON and a newline. */
  static byte[] errorBody(ApiException e) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("code", e.code().name());
    body.put("error", e.getMessage());
    if (e.pos() != null) body.put("pos", BackupService.posJson(e.pos()));
    return GoJson.compactLine(body);
  }

  void send(int status, String contentType, byte[] body) throws IOException {
    try (OutputStream out = start(status, contentType, body.length)) {
      out.write(body);
    }
  }

  /**
   * Sets the status and headers and returns the body's stream; the headers go out with its first bytes (it buffers
   * up to Jetty's output buffer size), or when it is closed.
   */
  private OutputStream start(int status, String contentType, long length) {
    this.status = status;
    response.setStatus(status);
    if (!drainBody()) response.getHeaders().put(HttpHeader.CONNECTION, "close");
    if (contentType != null) response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    if (length >= 0) response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
    return line.countOut(Response.asBufferedOutputStream(request, response));
  }

  /**
   * Reads what the endpoint left of the request body (all of it, when it failed before reading), up to {@link
   * #DRAIN_LIMIT}; true when the body has ended. Jetty keeps a connection for the next request only if the body was
   * read to its end; otherwise it closes the connection after the response, and the response must say so, or a
   * client that reuses the connection finds it closed (the JDK's server drained 64 KiB in the same way).
   */
  private boolean drainBody() {
    InputStream rest = Request.asInputStream(request); // not closed: closing it before its end fails the request
    try {
      return rest.skip(DRAIN_LIMIT) < DRAIN_LIMIT && rest.read() < 0;
    } catch (IOException | RuntimeException e) {
      return false; // unreadable: the connection cannot be reused
    }
  }

  private static Map<String, String> parseQuery(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) return out;
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) continue;
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq), v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        out.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new ApiException(ErrorCode.EBADINPUT, "invalid query string");
      }
    }
    return out;
  }
}
