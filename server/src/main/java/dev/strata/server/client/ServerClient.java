package dev.strata.server.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import dev.strata.server.GoJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A client of the backup API (the calls LiteFS and {@code lfsb} make), on {@code java.net.http}. Errors come back
 * as {@link ServerException} carrying the server's code and message.
 */
public final class ServerClient {
  /** One restore point from {@code /db/info}. */
  public record RestorePoint(long maxTxid, String maxTimestamp, long postApplyChecksum) {}

  /** {@code /db/info}: the database, the LiteFS cluster ID its cluster is bound to (null if none), restore points. */
  public record Info(String name, String clusterId, List<RestorePoint> restorablePaths) {}

  /** A response body being streamed, with its length when the server sent one (−1 otherwise). */
  public record Download(InputStream body, long length) {}

  private final URI base;
  private final String authorization;
  private final HttpClient http;
  private final String clusterId;

  /**
   * @param endpoint server URL; only its scheme, host and port are used (as LiteFS and lfsb do)
   * @param authorization the {@code Authorization} header value, e.g. {@code cluster NAME}
   */
  public ServerClient(String endpoint, String authorization) {
    this(endpoint, authorization, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build());
  }

  /** A client sharing an {@link HttpClient} (and its connections) with others. */
  public ServerClient(String endpoint, String authorization, HttpClient http) {
    URI u = URI.create(endpoint);
    if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
        || u.getHost() == null) {
      throw new IllegalArgumentException("invalid endpoint (want http://HOST:PORT or https://…): " + endpoint);
    }
    this.base = URI.create(u.getScheme() + "://" + u.getRawAuthority());
    this.authorization = authorization;
    this.http = http;
    this.clusterId = null;
  }

  private ServerClient(ServerClient from, String clusterId) {
    this.base = from.base;
    this.authorization = from.authorization;
    this.http = from.http;
    this.clusterId = clusterId;
  }

  /** This client sending {@code Litefs-Cluster-Id: clusterId} with every request, as a LiteFS node does. */
  public ServerClient withClusterId(String clusterId) {
    return new ServerClient(this, clusterId);
  }

  /** A client for {@code cluster}, with an optional token ({@code cluster NAME TOKEN}). */
  public static ServerClient forCluster(String endpoint, String cluster, String token) {
    return new ServerClient(endpoint, "cluster " + cluster + (token == null || token.isEmpty() ? "" : " " + token));
  }

  /** {@code GET /pos}: every database's position. */
  public Map<String, Pos> positions() throws IOException {
    JsonNode n = json(send(request("/pos", null).GET()));
    Map<String, Pos> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : n.properties()) out.put(e.getKey(), pos(e.getValue()));
    return out;
  }

  /** {@code POST /db/tx}: uploads one LTX file; returns the high-water mark. */
  public long writeTx(String db, byte[] ltx) throws IOException {
    return writeTx(db, () -> new java.io.ByteArrayInputStream(ltx));
  }

  /** {@code POST /db/tx} with a streamed (chunked) body, as LiteFS sends it. */
  public long writeTx(String db, Supplier<InputStream> body) throws IOException {
    HttpResponse<byte[]> r = send(request("/db/tx", Map.of("db", db))
        .POST(HttpRequest.BodyPublishers.ofInputStream(body)));
    String hwm = r.headers().firstValue("Litefs-Hwm").orElse("");
    try {
      return Txid.parse(hwm);
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot parse high-water mark: \"" + hwm + "\"");
    }
  }

  /** {@code GET /db/snapshot}: {@code format} is {@code ltx} or {@code sqlite}. */
  public Download snapshot(String db, String format) throws IOException {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("db", db);
    if (format != null) q.put("format", format);
    HttpResponse<InputStream> r = sendStream(request("/db/snapshot", q).GET());
    return new Download(r.body(), r.headers().firstValueAsLong("Content-Length").orElse(-1));
  }

  /** {@code GET /db/snapshot} read whole. */
  public byte[] snapshotBytes(String db, String format) throws IOException {
    try (InputStream in = snapshot(db, format).body()) {
      return in.readAllBytes();
    }
  }

  /** {@code GET /db/info}: the database's restore points (first and last, or all). */
  public Info info(String db, boolean all) throws IOException {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("db", db);
    if (all) q.put("all", "");
    JsonNode n = json(send(request("/db/info", q).GET()));
    List<RestorePoint> out = new ArrayList<>();
    for (JsonNode p : n.path("restorablePaths")) {
      out.add(new RestorePoint(Txid.parse(p.path("maxTxId").asText()), p.path("maxTimestamp").asText(),
          Checksum.parse(p.path("postApplyChecksum").asText())));
    }
    String clusterId = n.path("clusterId").asText("");
    return new Info(n.path("name").asText(db), clusterId.isEmpty() ? null : clusterId, out);
  }

  /** A checked restore point: its TXID and RFC 3339 timestamp. */
  public record Check(long txid, String timestamp) {}

  /** {@code GET /db/restore/check} with a TXID or a timestamp (the other null). */
  public Check restoreCheck(String db, Long txid, Instant timestamp) throws IOException {
    JsonNode n = json(send(request("/db/restore/check", restoreQuery(db, txid, timestamp)).GET()));
    return new Check(Txid.parse(n.path("txID").asText()), n.path("timestamp").asText());
  }

  /** {@code POST /db/restore}; returns the TXID the restored state was written as. */
  public long restore(String db, Long txid, Instant timestamp) throws IOException {
    JsonNode n = json(send(request("/db/restore", restoreQuery(db, txid, timestamp))
        .POST(HttpRequest.BodyPublishers.noBody())));
    return Txid.parse(n.path("txID").asText());
  }

  /** {@code POST /db/upload}: imports a SQLite database file; returns its TXID. */
  public long upload(String db, Supplier<InputStream> sqlite) throws IOException {
    JsonNode n = json(send(request("/db/upload", Map.of("db", db))
        .POST(HttpRequest.BodyPublishers.ofInputStream(sqlite))));
    return Txid.parse(n.path("txID").asText());
  }

  /** {@code DELETE /db}. */
  public void delete(String db) throws IOException {
    send(request("/db", Map.of("db", db)).DELETE());
  }

  private static Map<String, String> restoreQuery(String db, Long txid, Instant timestamp) {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("db", db);
    if (txid != null) q.put("txid", Txid.format(txid));
    if (timestamp != null) q.put("timestamp", GoJson.time(timestamp));
    return q;
  }

  private HttpRequest.Builder request(String path, Map<String, String> query) {
    StringBuilder b = new StringBuilder(base.toString()).append(path);
    if (query != null && !query.isEmpty()) {
      char sep = '?';
      for (Map.Entry<String, String> e : query.entrySet()) {
        b.append(sep).append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
            .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        sep = '&';
      }
    }
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(b.toString()));
    if (authorization != null && !authorization.isEmpty()) r.header("Authorization", authorization);
    if (clusterId != null) r.header("Litefs-Cluster-Id", clusterId);
    return r;
  }

  private HttpResponse<byte[]> send(HttpRequest.Builder r) throws IOException {
    HttpResponse<byte[]> resp = call(r, HttpResponse.BodyHandlers.ofByteArray());
    if (resp.statusCode() / 100 != 2) throw error(resp.statusCode(), resp.body());
    return resp;
  }

  private HttpResponse<InputStream> sendStream(HttpRequest.Builder r) throws IOException {
    HttpResponse<InputStream> resp = call(r, HttpResponse.BodyHandlers.ofInputStream());
    if (resp.statusCode() / 100 != 2) {
      try (InputStream in = resp.body()) {
        throw error(resp.statusCode(), in.readNBytes(64 * 1024));
      }
    }
    return resp;
  }

  private <T> HttpResponse<T> call(HttpRequest.Builder r, HttpResponse.BodyHandler<T> handler) throws IOException {
    try {
      return http.send(r.build(), handler);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot connect to " + base + ": " + (e.getMessage() == null ? "connection refused"
          : e.getMessage()), e);
    }
  }

  /** LiteFS's reading of an error: JSON with a code, else the raw body. */
  private static ServerException error(int status, byte[] body) {
    try {
      JsonNode n = GoJson.parse(body);
      if (n.isObject() && n.has("code")) {
        Pos pos = n.has("pos") ? pos(n.get("pos")) : null;
        return new ServerException(status, n.path("code").asText(), n.path("error").asText(), pos);
      }
    } catch (IOException | RuntimeException ignored) {
      // not the JSON error
    }
    String text = new String(body, StandardCharsets.UTF_8).strip();
    return new ServerException(status, "", "backup client error (" + status + "): " + text, null);
  }

  private static JsonNode json(HttpResponse<byte[]> r) throws IOException {
    return GoJson.parse(r.body());
  }

  private static Pos pos(JsonNode n) {
    return new Pos(hex(n, "TXID"), hex(n, "PostApplyChecksum"));
  }

  private static long hex(JsonNode n, String key) {
    for (Map.Entry<String, JsonNode> e : n.properties()) {
      if (e.getKey().equalsIgnoreCase(key)) return e.getValue().isNull() ? 0 : Txid.parse(e.getValue().asText());
    }
    return 0;
  }
}
