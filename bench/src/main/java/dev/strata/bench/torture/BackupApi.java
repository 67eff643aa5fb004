package dev.strata.bench.torture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The backup server's HTTP API as LiteFS (spec §2.3) and {@code lfsb} (§3) call it, written here from the spec so
 * that the harness shares no code with the server it checks. Every call returns the status and body as sent; an
 * IOException means no answer (connection refused or reset, timeout).
 */
final class BackupApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(3)).build();

  /** One answer. {@code code}, {@code message} and {@code pos} are those of an error body, when it has them. */
  record Reply(int status, byte[] body, String hwm) {
    boolean ok() {
      return status == 200;
    }

    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }

    String code() {
      try {
        return json().path("code").asText("");
      } catch (IOException e) {
        return "";
      }
    }

    /** The server position an EPOSMISMATCH names. */
    Pos pos() throws IOException {
      JsonNode p = json().path("pos");
      return new Pos(Txid.parse(p.path("TXID").asText()), Checksum.parse(p.path("PostApplyChecksum").asText()));
    }

    /** "409 EPOSMISMATCH position mismatch", for messages. */
    String describe() {
      String text = new String(body, StandardCharsets.UTF_8).strip();
      try {
        JsonNode n = json();
        if (n.has("code")) text = n.path("code").asText() + " " + n.path("error").asText();
      } catch (IOException e) {
        // not JSON: the raw body
      }
      return status + (text.isEmpty() ? "" : " " + (text.length() > 200 ? text.substring(0, 200) + "…" : text));
    }
  }

  /** A restore point as {@code GET /db/info?all=} lists it. */
  record Listed(long txid, long timestamp, long checksum) {}

  private volatile String base;
  /** With several instances: each request goes to one of them at random (as a load balancer would send it). */
  private final List<String> bases;
  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> inFlight =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final String cluster;
  private final Duration timeout;
  private long slowestMillis;
  private String slowest = "";
  private final List<String> overBudget = new ArrayList<>();
  private long budgetMillis = Long.MAX_VALUE;

  BackupApi(String base, String cluster, Duration timeout) {
    this(List.of(base), cluster, timeout);
  }

  /** A client of several instances: each request to one of {@code bases} at random. */
  BackupApi(List<String> bases, String cluster, Duration timeout) {
    this.base = bases.getFirst();
    this.bases = List.copyOf(bases);
    this.cluster = cluster;
    this.timeout = timeout;
  }

  /** {@code POST /db/tx} requests on the wire to {@code base} now. */
  int uploadsInFlight(String base) {
    java.util.concurrent.atomic.AtomicInteger n = inFlight.get(base);
    return n == null ? 0 : n.get();
  }

  /** Where the next request goes: the only instance, or one of several at random. */
  private String target() {
    return bases.size() == 1 ? base : bases.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(bases.size()));
  }

  /** Points the client at a restarted server (in-process servers bind a new port). */
  void base(String url) {
    this.base = url;
  }

  /** The instance a command-line client is pointed at: the only one, or one of several at random. */
  String base() {
    return target();
  }

  String cluster() {
    return cluster;
  }

  /** {@code GET /pos}: every database's position. */
  Map<String, Pos> positions() throws IOException {
    Reply r = send("GET", "/pos", null);
    if (!r.ok()) throw new IOException("GET /pos: " + r.describe());
    Map<String, Pos> out = new TreeMap<>();
    r.json().properties().forEach(e -> out.put(e.getKey(), new Pos(Txid.parse(e.getValue().path("TXID").asText()),
        Checksum.parse(e.getValue().path("PostApplyChecksum").asText()))));
    return out;
  }

  /** {@code POST /db/tx}. */
  Reply writeTx(String db, byte[] ltx) throws IOException {
    return send("POST", "/db/tx?db=" + enc(db), ltx);
  }

  /** {@code GET /db/snapshot} in {@code format} (ltx or sqlite). */
  Reply snapshot(String db, String format) throws IOException {
    return send("GET", "/db/snapshot?db=" + enc(db) + "&format=" + format, null);
  }

  /** {@code GET /db/info?all=}: every restore point the server lists. */
  List<Listed> restorePoints(String db) throws IOException {
    Reply r = send("GET", "/db/info?db=" + enc(db) + "&all=", null);
    if (!r.ok()) throw new IOException("GET /db/info " + db + ": " + r.describe());
    List<Listed> out = new ArrayList<>();
    for (JsonNode p : r.json().path("restorablePaths")) {
      out.add(new Listed(Txid.parse(p.path("maxTxId").asText()), Timestamps.parse(p.path("maxTimestamp").asText())
          .toEpochMilli(), Checksum.parse(p.path("postApplyChecksum").asText())));
    }
    return out;
  }

  /** {@code GET /db/restore/check} by TXID. */
  Reply checkTxid(String db, long txid) throws IOException {
    return send("GET", "/db/restore/check?db=" + enc(db) + "&txid=" + Txid.format(txid), null);
  }

  /** {@code GET /db/restore/check} by time. */
  Reply checkTimestamp(String db, long millis) throws IOException {
    return send("GET", "/db/restore/check?db=" + enc(db) + "&timestamp=" + enc(Timestamps.format(millis)), null);
  }

  /** {@code POST /db/restore} by TXID. */
  Reply restoreTxid(String db, long txid) throws IOException {
    return send("POST", "/db/restore?db=" + enc(db) + "&txid=" + Txid.format(txid), null);
  }

  /** {@code POST /db/restore} by time. */
  Reply restoreTimestamp(String db, long millis) throws IOException {
    return send("POST", "/db/restore?db=" + enc(db) + "&timestamp=" + enc(Timestamps.format(millis)), null);
  }

  /** The {@code txID} of a restore or check reply, and the {@code timestamp} of a check. */
  record Point(long txid, Instant timestamp) {
    static Point of(Reply r) throws IOException {
      JsonNode n = r.json();
      String ts = n.path("timestamp").asText("");
      return new Point(Txid.parse(n.path("txID").asText()), ts.isEmpty() ? null : Timestamps.parse(ts));
    }
  }

  /** Answers slower than this are kept for {@link #drainOverBudget()}. */
  void budget(Duration d) {
    budgetMillis = d.toMillis();
  }

  /** The answers slower than the budget since the last call, as "61234 ms for GET /db/info?db=… (200)". */
  synchronized List<String> drainOverBudget() {
    List<String> out = List.copyOf(overBudget);
    overBudget.clear();
    return out;
  }

  /** The slowest answer so far: "1234 ms for GET /db/info?db=…". */
  synchronized String slowest() {
    return slowestMillis + " ms for " + slowest;
  }

  private Reply send(String method, String target, byte[] body) throws IOException {
    String to = target();
    boolean upload = method.equals("POST") && target.startsWith("/db/tx");
    java.util.concurrent.atomic.AtomicInteger flying = upload
        ? inFlight.computeIfAbsent(to, k -> new java.util.concurrent.atomic.AtomicInteger()) : null;
    if (flying != null) flying.incrementAndGet();
    try {
      return send(to, method, target, body);
    } finally {
      if (flying != null) flying.decrementAndGet();
    }
  }

  private Reply send(String to, String method, String target, byte[] body) throws IOException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(to + target)).timeout(timeout)
        .header("Authorization", "cluster " + cluster);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    long start = System.nanoTime();
    try {
      HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      long millis = (System.nanoTime() - start) / 1_000_000;
      synchronized (this) {
        String what = method + " " + target + " (" + r.statusCode() + ")";
        if (millis > slowestMillis) {
          slowestMillis = millis;
          slowest = what;
        }
        if (millis > budgetMillis) overBudget.add(millis + " ms for " + what);
      }
      return new Reply(r.statusCode(), r.body(), r.headers().firstValue("Litefs-Hwm").orElse(null));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + method + " " + target, e);
    } catch (IOException e) {
      throw new IOException(method + " " + target + (bases.size() > 1 ? " at " + to : "") + ": no answer after " + (System.nanoTime() - start) / 1_000_000
          + " ms: " + e, e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
