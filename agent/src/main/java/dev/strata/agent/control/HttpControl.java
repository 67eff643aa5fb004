package dev.strata.agent.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.strata.agent.DatabaseMonitor;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control endpoint over HTTP, served beside {@code /metrics} on {@code addr:}, for applications in any
 * language:
 *
 * <ul>
 *   <li>{@code POST /sync?db=PATH_OR_NAME[&wait=true][&replicas=all|N][&timeout=10s][&now=true]} — what
 *       {@code strata sync} does. 200 with {@code {"db":…,"txid":…,"replicas":{name:txid}}} once durable, or
 *       {@code {"db":…,"sync":"requested"}} without wait; 504 with {@code {"db":…,"error":…}} naming the
 *       replicas behind when the wait times out.
 *   <li>{@code GET /status[?db=PATH_OR_NAME]} — what {@code strata status} shows, for every database or one.
 * </ul>
 *
 * {@code db} may be left out while one database is replicated. Other errors are {@code {"error":"…"}}: 400 for bad
 * parameters, 404 for an unknown database or path, 405 for a wrong method. What the requests do is
 * {@link DatabaseControl}'s, as for the Unix socket.
 */
public final class HttpControl implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(HttpControl.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SYNC_PARAMETERS = Set.of("db", "wait", "replicas", "timeout", "now");

  private final Supplier<List<DatabaseMonitor>> monitors;

  /** Answers for the databases {@code monitors} gives at each request (databases found in a directory too). */
  public HttpControl(Supplier<List<DatabaseMonitor>> monitors) {
    this.monitors = monitors;
  }

  /** An answer: its HTTP status and JSON body. */
  private record Reply(int status, ObjectNode body) {}

  /** An answer other than 200 with nothing but a one-line message. */
  private static final class Refusal extends RuntimeException {
    final int status;

    Refusal(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Reply reply;
      try {
        reply = switch (exchange.getRequestURI().getPath()) {
          case "/sync" -> sync(exchange);
          case "/status" -> new Reply(200, status(exchange));
          default -> throw new Refusal(404, "no such path " + exchange.getRequestURI().getPath()
              + " (there are POST /sync, GET /status and GET /metrics)");
        };
      } catch (Refusal r) {
        reply = error(r.status, r.getMessage());
      } catch (IllegalArgumentException e) { // a parameter's value
        reply = error(400, e.getMessage());
      } catch (RuntimeException e) {
        log.warn("{} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e.toString());
        reply = error(500, "internal error: " + e.getMessage());
      }
      byte[] bytes = (JSON.writeValueAsString(reply.body()) + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(reply.status(), bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  private static Reply error(int status, String message) {
    return new Reply(status, JSON.createObjectNode().put("error", message));
  }

  private Reply sync(HttpExchange exchange) {
    requireMethod(exchange, "POST");
    Map<String, String> p = parameters(exchange, SYNC_PARAMETERS);
    SyncRequest request = SyncRequest.parse(flag(p, "wait"), p.getOrDefault("replicas", SyncRequest.ALL_REPLICAS),
        p.getOrDefault("timeout", SyncRequest.DEFAULT_TIMEOUT), flag(p, "now"));
    DatabaseMonitor m = database(p.get("db"));
    ObjectNode out = JSON.createObjectNode().put("db", m.spec().path().toString());
    try {
      DatabaseControl.Synced done = DatabaseControl.sync(m, request);
      if (!request.await()) return new Reply(200, out.put("sync", "requested"));
      out.put("txid", Txid.format(done.txid()));
      ObjectNode replicas = out.putObject("replicas");
      done.replicas().forEach((name, txid) -> replicas.put(name, txid < 0 ? null : Txid.format(txid)));
      return new Reply(200, out);
    } catch (TimeoutException e) {
      return new Reply(504, out.put("error", e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Refusal(503, "interrupted: strata replicate is stopping");
    }
  }

  private ObjectNode status(HttpExchange exchange) {
    requireMethod(exchange, "GET");
    Map<String, String> p = parameters(exchange, Set.of("db"));
    List<DatabaseMonitor> which = p.containsKey("db") ? List.of(database(p.get("db"))) : monitors.get();
    ObjectNode out = JSON.createObjectNode();
    var databases = out.putArray("databases");
    for (DatabaseMonitor m : which) {
      DatabaseStatus s = DatabaseControl.status(m);
      ObjectNode db = databases.addObject().put("db", s.db()).put("txid", Txid.format(s.txid()));
      ObjectNode replicas = db.putObject("replicas");
      for (DatabaseStatus.Replica r : s.replicas()) {
        replicas.putObject(r.name())
            .put("txid", r.txid() < 0 ? null : Txid.format(r.txid()))
            .put("lag", r.lag() < 0 ? null : r.lag())
            .put("errors", r.errors())
            .put("last_upload", time(r.lastUploadMillis()))
            .put("last_error", r.lastError())
            .put("last_error_at", time(r.lastErrorMillis()));
      }
      ObjectNode drills = db.putObject("drills");
      for (DatabaseStatus.Drill d : s.drills()) {
        drills.putObject(d.replica()).put("ok", d.ok()).put("finished", time(d.finishedMillis()))
            .put("txid", Txid.format(d.txid())).put("error", d.error());
      }
    }
    return out;
  }

  /** The database named by {@code db}, its path or its name; the only one when {@code db} is not given. */
  private DatabaseMonitor database(String db) {
    List<DatabaseMonitor> all = monitors.get();
    if (db == null || db.isEmpty()) {
      if (all.size() == 1) return all.getFirst();
      if (all.isEmpty()) throw new Refusal(404, "no database is being replicated (yet)");
      throw new Refusal(400, "give db=PATH: " + all.size() + " databases are being replicated");
    }
    Path path;
    try {
      path = Path.of(db).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      path = null; // then only a name can match
    }
    for (DatabaseMonitor m : all) {
      if (m.spec().name().equals(db) || m.spec().path().equals(path)) return m;
    }
    throw new Refusal(404, "no database " + db + " is being replicated");
  }

  private static void requireMethod(HttpExchange exchange, String method) {
    if (exchange.getRequestMethod().equals(method)) return;
    exchange.getResponseHeaders().set("Allow", method);
    throw new Refusal(405, exchange.getRequestURI().getPath() + " takes " + method + ", not "
        + exchange.getRequestMethod());
  }

  /** The query's parameters; one not in {@code known}, or one given twice, is refused (a typo would go unseen). */
  private static Map<String, String> parameters(HttpExchange exchange, Set<String> known) {
    Map<String, String> out = new HashMap<>();
    String query = exchange.getRequestURI().getRawQuery();
    if (query == null) return out;
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) continue;
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (!known.contains(key)) {
        throw new Refusal(400, "unknown parameter \"" + key + "\" (known: " + String.join(", ", known.stream()
            .sorted().toList()) + ")");
      }
      if (out.put(key, value) != null) throw new Refusal(400, "parameter " + key + " is given twice");
    }
    return out;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new Refusal(400, "bad percent-encoding in the query: " + s);
    }
  }

  /** A true/false parameter: absent is false, {@code ?wait} alone is true. */
  private static boolean flag(Map<String, String> p, String name) {
    return switch (p.getOrDefault(name, "false")) {
      case "", "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw new Refusal(400, name + " must be true or false, not \"" + p.get(name) + "\"");
    };
  }

  /** An epoch-millisecond time as ISO-8601; null for 0 (never). */
  private static String time(long millis) {
    return millis == 0 ? null : Instant.ofEpochMilli(millis).toString();
  }
}
