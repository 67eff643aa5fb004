package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import dev.strata.server.client.ServerClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and broken requests: each gets its status and JSON error, the server stays up, stored data stays. */
class BadInputTest {
  @TempDir Path dir;
  TestServer ts;
  ServerClient client;
  TestDb db = new TestDb(512);
  byte[] before;
  Pos beforePos;

  @BeforeEach
  void start() throws Exception {
    ts = new TestServer(dir);
    client = ts.client("c1");
    client.writeTx("db", db.commit(Map.of(1, db.fill('1'), 2, db.fill('2')), 0));
    before = client.snapshotBytes("db", "sqlite");
    beforePos = client.positions().get("db");
  }

  @AfterEach
  void stop() throws Exception {
    // Whatever happened, the server answers and the data is as it was.
    assertThat(client.positions().get("db")).isEqualTo(beforePos);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(before);
    ts.close();
  }

  private void expect(HttpResponse<byte[]> r, int status, String code, String message) {
    assertThat(r.statusCode()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"code\":\"" + code + "\",\"error\":\"" + message + "\"}\n");
  }

  @Test
  void wrongAuthorization() throws Exception {
    for (String auth : new String[] {null, "", "FlyV1 abc", "cluster", "cluster a b", "Bearer x", "clusterc1"}) {
      expect(ts.raw("GET", "/pos", auth, null), 401, "EINVALIDAUTH", "authorization header invalid format");
    }
    expect(ts.raw("GET", "/nowhere", null, null), 401, "EINVALIDAUTH", "authorization header invalid format");
    // "cluster " cannot arrive: HTTP header values lose trailing spaces, so it reads as "cluster" (401 above).
    for (String name : new String[] {"../x", ".hidden", "a/b", "x".repeat(33), "caf\u00e9"}) {
      expect(ts.raw("GET", "/pos", "cluster " + name, null), 400, "EBADCLUSTER", "cluster invalid");
    }
    assertThat(ts.raw("GET", "/pos", "CLUSTER c1", null).statusCode()).isEqualTo(200);
  }

  @Test
  void invalidDatabaseNames() throws Exception {
    expect(ts.raw("POST", "/db/tx", "cluster c1", new byte[0]), 400, "EBADDB", "database required");
    String[][] cases = {{"../x", "\\\"../x\\\""}, {"foo bar", "\\\"foo bar\\\""}, {".db", "\\\".db\\\""},
      {"x".repeat(300), "\\\"" + "x".repeat(300) + "\\\""}, {"a\"b", "\\\"a\\\\\\\"b\\\""}};
    for (String[] c : cases) {
      String q = URLEncoder.encode(c[0], StandardCharsets.UTF_8);
      expect(ts.raw("POST", "/db/tx?db=" + q, "cluster c1", db.snapshot(0)), 400, "EBADDB",
          "invalid database name: " + c[1]);
      expect(ts.raw("GET", "/db/snapshot?db=" + q, "cluster c1", null), 400, "EBADDB",
          "invalid database name: " + c[1]);
    }
    assertThat(ts.raw("GET", "/db/snapshot?db=" + "x".repeat(256), "cluster c1", null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void unknownPathsAndMethods() throws Exception {
    HttpResponse<byte[]> r = ts.raw("GET", "/nowhere", "cluster c1", null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("404 page not found\n");
    assertThat(ts.raw("GET", "/db/tx?db=db", "cluster c1", null).statusCode()).isEqualTo(405);
    assertThat(ts.raw("POST", "/pos", "cluster c1", new byte[1]).statusCode()).isEqualTo(405);
  }

  @Test
  void garbageBodies() throws Exception {
    Random rnd = new Random(5);
    for (int size : new int[] {0, 1, 99, 100, 116, 4096, 100_000}) {
      byte[] junk = new byte[size];
      rnd.nextBytes(junk);
      HttpResponse<byte[]> r = ts.raw("POST", "/db/tx?db=db", "cluster c1", junk);
      assertThat(r.statusCode()).as("%d random bytes", size).isEqualTo(400);
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).startsWith("{\"code\":\"EBADLTX\"");
    }
    expect(ts.raw("POST", "/db/tx?db=db", "cluster c1", "X".repeat(100).getBytes()), 400, "EBADLTX",
        "decode header: unmarshal header: invalid LTX file"); // litefs-backup's words
    // A valid header followed by garbage fails its checksums.
    byte[] tx = db.commit(Map.of(1, db.fill('9')), 0);
    db.replace(new java.util.TreeMap<>(Map.of(1, TestDb.fill(512, '1'), 2, TestDb.fill(512, '2'))), 2, beforePos);
    for (int i = 100; i < tx.length; i += 7) {
      byte[] flipped = tx.clone();
      flipped[i] ^= 0x40;
      assertThat(ts.raw("POST", "/db/tx?db=db", "cluster c1", flipped).statusCode()).as("flip at %d", i)
          .isIn(400, 409);
    }
  }

  @Test
  void bodiesClaimingHugeSizes() throws Exception {
    // A page size no LTX file can have.
    byte[] h = LtxHeader.of(0, 4096, 1, 1, 1, 0, 0).encode();
    ByteBuffer.wrap(h).putInt(8, 0x40000000);
    expect(ts.raw("POST", "/db/tx?db=db", "cluster c1", h), 400, "EBADLTX",
        "decode header: invalid page size: 1073741824");
    // The largest page size and commit, then almost nothing: refused without allocating what it claims.
    byte[] big = LtxHeader.of(0, 65536, -1, 1, 1, 0, 0).encode();
    byte[] body = java.util.Arrays.copyOf(big, big.length + 10);
    body[103] = 1;
    HttpResponse<byte[]> r = ts.raw("POST", "/db/tx?db=new", "cluster c1", body);
    assertThat(r.statusCode()).isEqualTo(400);
    // A SQLite header claiming 4 billion pages of 64 KiB.
    byte[] sqlite = new byte[65536];
    System.arraycopy("SQLite format 3\0".getBytes(StandardCharsets.US_ASCII), 0, sqlite, 0, 16);
    ByteBuffer.wrap(sqlite).putShort(16, (short) 1).putInt(28, -1);
    r = ts.raw("POST", "/db/upload?db=new", "cluster c1", sqlite);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("read page 2: unexpected EOF");
    assertThat(client.positions()).containsOnlyKeys("db");
  }

  @Test
  void malformedChunkedBodiesAreTheClientsFault() throws Exception {
    String[] bodies = {"ZZZ\r\nabc\r\n0\r\n\r\n", "5\r\nabc\r\n0\r\n\r\n", "-1\r\n", "fffffffffffff\r\nab"};
    for (String path : new String[] {"/db/tx?db=db", "/db/upload?db=db"}) {
      for (String body : bodies) {
        String response = rawExchange("POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: cluster c1\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n" + body);
        assertThat(response).as("%s %s", path, body).startsWith("HTTP/1.1 400 ")
            .containsIgnoringCase("\r\nContent-Type: application/json\r\n") // names are case-insensitive
            .contains("\r\n\r\n{\"code\":\"EBADREQUEST\",\"error\":\"malformed request body");
      }
    }
  }

  @Test
  void anErrorAnsweredBeforeTheBodyLeavesTheConnectionUsable() throws Exception {
    // Refused before its body is read (a malformed cluster ID), with the body still on its way: clients such as
    // Java's HttpClient reuse the connection for their next request, so it must not be closed under them.
    try (Socket s = new Socket("127.0.0.1", ts.server.address().getPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      byte[] body = db.snapshot(0);
      out.write(("POST /db/tx?db=db HTTP/1.1\r\nHost: x\r\nAuthorization: cluster c1\r\nLitefs-Cluster-Id: bad\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(300);
      out.write(body);
      out.write("GET /pos HTTP/1.1\r\nHost: x\r\nAuthorization: cluster c1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      s.shutdownOutput();
      String responses = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(responses).startsWith("HTTP/1.1 400 ").contains("EBADCLUSTERID").contains("}\nHTTP/1.1 200 ");
    }
  }

  /** Sends a request as written, half-closes, and returns everything the server answers until it closes. */
  private String rawExchange(String request) throws Exception {
    try (Socket s = new Socket("127.0.0.1", ts.server.address().getPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      s.shutdownOutput();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void stalledClientsAreCutOff() throws Exception {
    int port = ts.server.address().getPort();
    // Stops in the middle of the body.
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /db/tx?db=db HTTP/1.1\r\nHost: x\r\nAuthorization: cluster c1\r\nContent-Length: 5000\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(db.snapshot(0), 0, 50);
      out.flush();
      assertThat(readUntilClosed(s.getInputStream())).isTrue();
    }
    // Stops in the middle of the headers.
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write("GET /pos HTTP/1.1\r\nAuthor".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(readUntilClosed(s.getInputStream())).isTrue();
    }
  }

  @Test
  void stalledDownloadIsCutOff() throws Exception {
    TestDb big = new TestDb(4096);
    Map<Integer, byte[]> pages = new java.util.TreeMap<>();
    Random rnd = new Random(9);
    for (int p = 1; p <= 8000; p++) {
      byte[] b = new byte[4096];
      rnd.nextBytes(b);
      pages.put(p, b);
    }
    client.writeTx("big", big.commit(pages, 8000, 0));
    long total = 8000L * 4096; // more than the socket buffers on both sides hold
    try (Socket s = new Socket("127.0.0.1", ts.server.address().getPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(("GET /db/snapshot?db=big&format=sqlite HTTP/1.1\r\nHost: x\r\n"
          + "Authorization: cluster c1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      Thread.sleep(5_000); // read nothing for longer than the stall timeout (2 s here)
      long got = 0;
      try {
        byte[] buf = new byte[65536];
        for (int n; (n = s.getInputStream().read(buf)) > 0; ) got += n;
      } catch (java.io.IOException e) {
        // reset: also a cut-off
      }
      assertThat(got).isLessThan(total);
    }
    // The server let go of the download: uploads and reads go on.
    client.writeTx("big", big.commit(Map.of(1, big.fill('z')), 0));
    assertThat(client.positions().get("big")).isEqualTo(big.pos());
  }

  /** True when the server closed the connection (end of stream or reset) before the read timeout. */
  private static boolean readUntilClosed(InputStream in) {
    try {
      while (in.read() >= 0) {
        // whatever the server sent before closing
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (java.io.IOException e) {
      return true;
    }
  }
}
