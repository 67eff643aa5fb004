package dev.strata.agent.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.metrics.AgentMetrics;
import dev.strata.agent.testing.Sqlite;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.ltx.Txid;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /sync} and {@code GET /status} on the metrics server, against a running monitor with two directory
 * replicas (one of which can be made to fail), through a real HTTP client: the answers of {@code strata sync} and
 * {@code strata status} as JSON, and one-line JSON errors with the right status for bad requests.
 */
class HttpControlTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  @TempDir Path dir;
  private String base;

  record Answer(int status, JsonNode json, HttpResponse<String> response) {}

  Answer call(String method, String pathAndQuery) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(60))
        .method(method, HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body().startsWith("{") ? JSON.readTree(r.body()) : null, r);
  }

  @Test
  void syncWaitsUntilDurableTimesOutNamingTheReplicaAndStatusIsJson() throws Exception {
    TwoReplicas two = TwoReplicas.create(dir);
    Path db = two.db();
    var a = two.a();
    var b = two.b();
    try (DatabaseMonitor m = two.monitor();
        AgentMetrics metrics = new AgentMetrics(() -> List.of(m))) {
      metrics.serve("127.0.0.1:0", new HttpControl(() -> List.of(m)));
      base = "http://127.0.0.1:" + metrics.port();
      m.start();

      Answer requested = call("POST", "/sync"); // one database: db may be left out
      assertThat(requested.status()).as(requested.response().body()).isEqualTo(200);
      assertThat(requested.json().get("db").asText()).isEqualTo(db.toString());
      assertThat(requested.json().get("sync").asText()).isEqualTo("requested");
      assertThat(requested.response().headers().firstValue("Content-Type")).hasValue("application/json");

      long before = m.capture().txid();
      Sqlite.cli(db, "INSERT INTO t(v) VALUES ('one')");
      Answer waited = call("POST", "/sync?db=" + URLEncoder.encode(db.toString(), StandardCharsets.UTF_8)
          + "&wait=true&timeout=20s");
      assertThat(waited.status()).as(waited.response().body()).isEqualTo(200);
      long txid = Txid.parse(waited.json().get("txid").asText());
      assertThat(txid).isGreaterThan(before); // the insert, made before the call, is covered
      for (String r : List.of("a", "b")) {
        assertThat(Txid.parse(waited.json().get("replicas").get(r).asText())).isGreaterThanOrEqualTo(txid);
        assertThat(ControlServerTest.maxTxidIn(dir.resolve(r))).isGreaterThanOrEqualTo(txid); // on the replica now
      }

      b.down = true;
      Sqlite.cli(db, "INSERT INTO t(v) VALUES ('two')");
      Answer late = call("POST", "/sync?db=app.db&wait=true&now=true&timeout=1500ms");
      assertThat(late.status()).isEqualTo(504);
      assertThat(late.json().get("db").asText()).isEqualTo(db.toString());
      assertThat(late.json().get("error").asText()).contains("not durable", "behind: b at").doesNotContain("\n");
      assertThat(late.response().body().strip()).doesNotContain("\n");
      Answer one = call("POST", "/sync?wait&replicas=1&timeout=20s");
      assertThat(one.status()).as(one.response().body()).isEqualTo(200);
      assertThat(ControlServerTest.maxTxidIn(dir.resolve("a")))
          .isGreaterThanOrEqualTo(Txid.parse(one.json().get("txid").asText()));

      Answer status = call("GET", "/status");
      assertThat(status.status()).isEqualTo(200);
      JsonNode s = status.json().get("databases").get(0);
      assertThat(s.get("db").asText()).isEqualTo(db.toString());
      assertThat(Txid.parse(s.get("txid").asText())).isEqualTo(m.capture().txid());
      assertThat(s.get("replicas").get("a").get("lag").asLong()).isZero();
      assertThat(s.get("replicas").get("a").get("last_upload").asText()).endsWith("Z");
      assertThat(s.get("replicas").get("a").get("last_error").isNull()).isTrue();
      assertThat(s.get("replicas").get("b").get("errors").asLong()).isPositive();
      assertThat(s.get("replicas").get("b").get("last_error").asText()).contains("test replica is down");
      assertThat(s.get("drills").isObject()).isTrue();

      assertThat(call("POST", "/sync?db=other.db").status()).isEqualTo(404);
      assertThat(call("POST", "/sync?db=other.db").json().get("error").asText()).contains("other.db");
      assertThat(call("GET", "/status?db=other.db").status()).isEqualTo(404);
      assertThat(call("POST", "/sync?wait=true&replicas=some").json().get("error").asText())
          .isEqualTo("replicas must be all or a positive number, not \"some\"");
      assertThat(call("POST", "/sync?wait=true&timeout=soon").status()).isEqualTo(400);
      assertThat(call("POST", "/sync?wait=maybe").status()).isEqualTo(400);
      assertThat(call("POST", "/sync?dbs=app.db").json().get("error").asText()).contains("unknown parameter \"dbs\"");
      Answer wrongMethod = call("GET", "/sync");
      assertThat(wrongMethod.status()).isEqualTo(405);
      assertThat(wrongMethod.response().headers().firstValue("Allow")).hasValue("POST");
      assertThat(call("POST", "/status").status()).isEqualTo(405);
      assertThat(call("GET", "/nothing").status()).isEqualTo(404);
      assertThat(call("GET", "/metrics").response().body()).contains("strata_db_txid");
      b.down = false;
      m.stop();
    }
  }

  @Test
  void withSeveralDatabasesDbIsNeeded() throws Exception {
    Path one = dir.resolve("one.db"), two = dir.resolve("two.db");
    Sqlite.create(one);
    Sqlite.create(two);
    try (DatabaseMonitor m1 = DatabaseMonitor.open(DatabaseSpec.of(one, List.of(new ReplicaSpec("file",
            dir.resolve("r1").toString()))), ReplicaUpkeep.Factory.NONE);
        DatabaseMonitor m2 = DatabaseMonitor.open(DatabaseSpec.of(two, List.of(new ReplicaSpec("file",
            dir.resolve("r2").toString()))), ReplicaUpkeep.Factory.NONE);
        AgentMetrics metrics = new AgentMetrics(() -> List.of(m1, m2))) {
      metrics.serve("127.0.0.1:0", new HttpControl(() -> List.of(m1, m2)));
      base = "http://127.0.0.1:" + metrics.port();
      Answer missing = call("POST", "/sync");
      assertThat(missing.status()).isEqualTo(400);
      assertThat(missing.json().get("error").asText()).contains("give db=");
      Answer byName = call("POST", "/sync?db=two.db");
      assertThat(byName.status()).isEqualTo(200);
      assertThat(byName.json().get("db").asText()).isEqualTo(two.toString());
      assertThat(call("GET", "/status").json().get("databases")).hasSize(2);
      assertThat(call("GET", "/status?db=" + one).json().get("databases").get(0).get("db").asText())
          .isEqualTo(one.toString());
    }
  }
}
