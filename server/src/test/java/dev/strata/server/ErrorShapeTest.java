package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.ForwardingReplicaClient;
import dev.strata.ltx.TxidRange;
import dev.strata.server.client.ServerClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every error the server answers is the JSON error shape ({@code {"code":…,"error":…}}) and names no Java class;
 * the one exception is an unknown path, which keeps litefs-backup's plain-text 404.
 */
class ErrorShapeTest {
  @TempDir Path dir;

  @Test
  void aWrongMethodIsAJsonError() throws Exception {
    try (TestServer ts = new TestServer(dir)) {
      for (String[] c : new String[][] {{"GET", "/db/tx?db=db", "POST"}, {"POST", "/pos", "GET"},
          {"PUT", "/db?db=db", "DELETE"}, {"BREW", "/db/info?db=db", "GET"}}) {
        HttpResponse<byte[]> r = ts.raw(c[0], c[1], "cluster c1", c[0].equals("GET") ? null : new byte[1]);
        assertThat(r.statusCode()).as("%s %s", c[0], c[1]).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue(c[2]);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(new String(r.body(), StandardCharsets.UTF_8))
            .isEqualTo("{\"code\":\"EBADMETHOD\",\"error\":\"method not allowed\"}\n");
      }
      HttpResponse<byte[]> unknown = ts.raw("GET", "/nowhere", "cluster c1", null);
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(new String(unknown.body(), StandardCharsets.UTF_8)).isEqualTo("404 page not found\n");
    }
  }

  @Test
  void anInternalFailureNamesNoJavaClass() throws Exception {
    for (RuntimeException thrown : List.of(new IllegalStateException("dev.strata.Something broke"),
        new NullPointerException(), new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("/x")))) {
      ReplicaClient failing = new Failing(new FileReplicaClient(dir.resolve("objects-" + thrown.hashCode())), thrown);
      try (TestServer ts = new TestServer(dir.resolve("data-" + thrown.hashCode()), new dev.strata.replica.testing
          .FakeClock(java.time.Instant.now()), UnaryOperator.identity(), failing)) {
        ts.client("c1").writeTx("db", new TestDb(512).commit(Map.of(1, TestDb.fill(512, 'a')), 0));
        HttpResponse<byte[]> r = ts.raw("DELETE", "/db?db=db", "cluster c1", null); // lists the storage to empty it
        assertThat(r.statusCode()).as("%s", thrown).isEqualTo(500);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).as("%s", thrown)
            .isEqualTo("{\"code\":\"EINTERNAL\",\"error\":\"internal error\"}\n");
      }
    }
  }

  /**
   * Storage that fails after its client's retries (an S3 outage) is worth retrying: 503 {@code EUNAVAILABLE} with
   * the storage's one-line answer, never the 500 of a bug. A file that is missing from storage is not that.
   */
  @Test
  void aStorageFailureIs503WithItsCause() throws Exception {
    AtomicReference<IOException> reads = new AtomicReference<>();
    ReplicaClient storage = new FailingReads(new FileReplicaClient(dir.resolve("objects")), reads);
    try (TestServer ts = new TestServer(dir.resolve("data"), new dev.strata.replica.testing.FakeClock(
        java.time.Instant.now()), UnaryOperator.identity(), storage)) {
      ServerClient client = ts.client("c1");
      TestDb db = new TestDb(512);
      client.writeTx("db", db.commit(Map.of(1, db.fill('1')), ts.clock.millis()));
      for (char c = '2'; c <= '3'; c++) {
        ts.compactAll();
        ts.clock.advance(java.time.Duration.ofMinutes(10)); // level-0 staging moves on past TXID 1
        client.writeTx("db", db.commit(Map.of(1, db.fill(c)), ts.clock.millis()));
      }
      ts.server.scheduler().runLevel(1);
      String check = "/db/restore/check?db=db&txid=0000000000000001";
      assertThat(ts.raw("GET", check, "cluster c1", null).statusCode()).isEqualTo(200);
      assertThat(ts.localTxids("c1", "db")).as("staged").doesNotContain(1L);

      reads.set(new IOException("s3 replica: GET s3://bucket/c1/db/0001/x.ltx failed after 10 attempts: HTTP 503"
          + " SlowDown"));
      HttpResponse<byte[]> r = ts.raw("GET", check, "cluster c1", null);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"code\":\"EUNAVAILABLE\",\"error\":"
          + "\"storage unavailable: s3 replica: GET s3://bucket/c1/db/0001/x.ltx failed after 10 attempts: HTTP 503"
          + " SlowDown\"}\n");

      reads.set(new java.nio.file.NoSuchFileException("s3://bucket/c1/db/0001/x.ltx"));
      assertThat(ts.raw("GET", check, "cluster c1", null).statusCode()).isEqualTo(500);
      reads.set(null);
      assertThat(ts.raw("GET", check, "cluster c1", null).statusCode()).isEqualTo(200);
    }
  }

  /** Storage whose reads fail with the exception set, while one is. */
  private static final class FailingReads extends ForwardingReplicaClient {
    private final AtomicReference<IOException> failure;

    FailingReads(ReplicaClient delegate, AtomicReference<IOException> failure) {
      super(delegate);
      this.failure = failure;
    }

    @Override
    public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
      IOException e = failure.get();
      if (e != null) throw e;
      return super.openFile(level, range, offset);
    }

    @Override
    protected ReplicaClient wrap(ReplicaClient child) {
      return new FailingReads(child, failure);
    }
  }

  /**
   * Requests the HTTP layer itself refuses, before any endpoint runs (the JDK's server answered these with an HTML
   * page naming a Java exception): each is a 4xx with the JSON error shape.
   */
  @Test
  void requestsTheHttpLayerRefusesAreJsonErrors() throws Exception {
    String auth = "Host: x\r\nAuthorization: cluster c1\r\n";
    Map<String, String> requests = new java.util.LinkedHashMap<>();
    requests.put("bad escape in the query", "GET /db/info?db=%zz HTTP/1.1\r\n" + auth + "\r\n");
    requests.put("bad escape in the path", "GET /db/%zz HTTP/1.1\r\n" + auth + "\r\n");
    requests.put("illegal header name", "GET /pos HTTP/1.1\r\n" + auth + "Bad Header: x\r\n\r\n");
    requests.put("100 KiB header", "GET /pos HTTP/1.1\r\n" + auth + "X-Big: " + "a".repeat(100 * 1024) + "\r\n\r\n");
    requests.put("conflicting lengths", "POST /db/tx?db=db HTTP/1.1\r\n" + auth
        + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    requests.put("unsupported transfer coding", "POST /db/tx?db=db HTTP/1.1\r\n" + auth
        + "Transfer-Encoding: gzip\r\n\r\nhello");
    requests.put("bad chunk size", "POST /db/tx?db=db HTTP/1.1\r\n" + auth
        + "Transfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n");
    requests.put("bad request line", "GET /pos HTTP/1.1 extra\r\n" + auth + "\r\n");
    requests.put("unknown HTTP version", "GET /pos HTTP/7.0\r\n" + auth + "\r\n");
    try (TestServer ts = new TestServer(dir)) {
      for (Map.Entry<String, String> c : requests.entrySet()) {
        RawResponse r = RawResponse.exchange(ts.server.address().getPort(), c.getValue());
        assertThat(r.status()).as("%s: %s", c.getKey(), r).isBetween(400, 499);
        assertThat(r.header("content-type")).as("%s: %s", c.getKey(), r).isEqualTo("application/json");
        assertThat(r.body()).as("%s", c.getKey()).endsWith("}\n").doesNotContainPattern(
            "Exception|\\b(java|javax|sun|com\\.sun|org\\.eclipse)\\.");
        com.fasterxml.jackson.databind.JsonNode json = GoJson.parse(r.body().getBytes(StandardCharsets.UTF_8));
        List<String> names = new java.util.ArrayList<>();
        json.fieldNames().forEachRemaining(names::add);
        assertThat(names).as("%s: %s", c.getKey(), r).containsExactly("code", "error");
        assertThat(json.get("code").isTextual() && json.get("error").isTextual()).as("%s", c.getKey()).isTrue();
      }
      assertThat(ts.raw("GET", "/pos", "cluster c1", null).statusCode()).isEqualTo(200); // still serving
    }
  }

  /** One response read off a raw socket: the request is sent as written, then everything until the server closes. */
  private record RawResponse(int status, Map<String, String> headers, String body) {
    static RawResponse exchange(int port, String request) throws IOException {
      String text;
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        s.setSoTimeout(30_000);
        try {
          s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
          s.shutdownOutput();
        } catch (IOException e) {
          // the server refused before reading it all; its answer is still there to read
        }
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
          for (int n; (n = s.getInputStream().read(buf)) > 0; ) got.write(buf, 0, n);
        } catch (java.net.SocketException e) {
          // a reset after the response: keep what arrived
        }
        text = got.toString(StandardCharsets.ISO_8859_1);
      }
      int end = text.indexOf("\r\n\r\n");
      if (!text.startsWith("HTTP/1.1 ") || end < 0) return new RawResponse(-1, Map.of(), text);
      Map<String, String> headers = new java.util.HashMap<>();
      String[] lines = text.substring(0, end).split("\r\n");
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
      String body = text.substring(end + 4);
      String length = headers.get("content-length");
      if (length != null) body = body.substring(0, Math.min(body.length(), Integer.parseInt(length)));
      return new RawResponse(Integer.parseInt(lines[0].substring(9, 12)), headers,
          new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    String header(String name) {
      return headers.get(name);
    }
  }

  /** Storage whose listings fail with a given unchecked exception. */
  private static final class Failing extends ForwardingReplicaClient {
    private final RuntimeException thrown;

    Failing(ReplicaClient delegate, RuntimeException thrown) {
      super(delegate);
      this.thrown = thrown;
    }

    @Override
    public List<LtxFileMeta> listFiles(int level) throws IOException {
      throw thrown;
    }

    @Override
    public List<LtxFileMeta> listAllFiles() throws IOException {
      throw thrown;
    }

    @Override
    protected ReplicaClient wrap(ReplicaClient child) {
      return new Failing(child, thrown);
    }
  }
}
