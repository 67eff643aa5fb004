package dev.strata.server.http;

import com.sun.net.httpserver.HttpExchange;
import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.GoJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** One request being answered: its authenticated cluster, query parameters, body, and response helpers. */
final class Call {
  private final HttpExchange exchange;
  private final StallGuard.Watch watch;
  private final String cluster;
  private Map<String, String> query;
  private boolean responded;

  Call(HttpExchange exchange, StallGuard.Watch watch, String cluster) {
    this.exchange = exchange;
    this.watch = watch;
    this.cluster = cluster;
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
    if (query == null) query = parseQuery(exchange.getRequestURI().getRawQuery());
    return query;
  }

  /** The request body, watched for stalls; its read failures are the client's ({@link RequestBody}). */
  InputStream body() {
    InputStream in = new RequestBody(exchange.getRequestBody());
    return watch == null ? in : watch.wrap(in);
  }

  /** True once the status line has been sent; errors after that can only abort the response. */
  boolean responded() {
    return responded;
  }

  /** 200 with an indented JSON body (Go's MarshalIndent). */
  void json(Object value) throws IOException {
    send(200, "application/json", GoJson.indented(value));
  }

  /** A status with no body. */
  void empty(int status) throws IOException {
    responded = true;
    exchange.sendResponseHeaders(status, -1);
  }

  /** Sets a response header; call before responding. */
  void header(String name, String value) {
    exchange.getResponseHeaders().set(name, value);
  }

  /** Starts a streamed 200 response; {@code length} −1 when unknown (chunked). */
  OutputStream stream(String contentType, long length) throws IOException {
    header("Content-Type", contentType);
    responded = true;
    exchange.sendResponseHeaders(200, length < 0 ? 0 : length == 0 ? -1 : length);
    OutputStream out = exchange.getResponseBody();
    return watch == null ? out : watch.wrap(out);
  }

  /** An error as litefs-backup sends it: compact JSON and a newline. */
  void error(ApiException e) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("code", e.code().name());
    body.put("error", e.getMessage());
    if (e.pos() != null) body.put("pos", dev.strata.server.BackupService.posJson(e.pos()));
    send(e.code().status(), "application/json", GoJson.compactLine(body));
  }

  void send(int status, String contentType, byte[] body) throws IOException {
    header("Content-Type", contentType);
    responded = true;
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = watch == null ? exchange.getResponseBody() : watch.wrap(exchange.getResponseBody())) {
        out.write(body);
      }
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
