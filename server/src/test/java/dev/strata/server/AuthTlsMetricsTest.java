package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Optional per-cluster tokens, HTTPS with a given certificate, and {@code /metrics}. */
class AuthTlsMetricsTest {
  @TempDir Path dir;

  @Test
  void tokensAreRequiredPerCluster() throws Exception {
    Tokens tokens = Tokens.parse("c1:s3cret-one, c2:s3cret-two");
    try (TestServer ts = new TestServer(dir, c -> c.withTokens(tokens))) {
      TestDb db = new TestDb(512);
      ServerClient c1 = ServerClient.forCluster(ts.url(), "c1", "s3cret-one");
      c1.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
      ServerClient bearer = new ServerClient(ts.url(), "Bearer s3cret-one");
      assertThat(bearer.positions()).containsOnlyKeys("db");
      assertThat(new ServerClient(ts.url(), "Bearer s3cret-two").positions()).isEmpty();
      for (String auth : new String[] {"cluster c1", "cluster c1 s3cret-two", "cluster c1 wrong", "Bearer nope",
        "cluster c3 s3cret-one", null}) {
        assertThatThrownBy(() -> new ServerClient(ts.url(), auth).positions())
            .as(String.valueOf(auth)).isInstanceOfSatisfying(ServerException.class, e -> {
              assertThat(e.status()).isEqualTo(401);
              assertThat(e.code()).isEqualTo("EINVALIDAUTH");
            });
      }
    }
  }

  @Test
  void tokenListsAreChecked() {
    assertThatThrownBy(() -> Tokens.parse("c1")).hasMessageContaining("CLUSTER:TOKEN");
    assertThatThrownBy(() -> Tokens.parse("c1:a,c2:a")).hasMessage("clusters c1 and c2 share a token");
    assertThatThrownBy(() -> Tokens.parse("../x:a")).hasMessageContaining("invalid cluster name");
    assertThat(Tokens.parse("# comment\nc1:a\n\nc2:b\n").size()).isEqualTo(2);
    // A list that names nobody would turn authentication off; only Tokens.none() may do that.
    for (String none : new String[] {"", " ", ",", "# c1:a", "\n# nobody\n"}) {
      assertThatThrownBy(() -> Tokens.parse(none)).as("\"%s\"", none).hasMessage("no CLUSTER:TOKEN entry");
    }
  }

  @Test
  void startupSaysWhetherAuthenticationIsOn() throws Exception {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(Server.class);
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO); // the tests' root level is WARN
    logger.setAdditive(false);
    try {
      try (TestServer ts = new TestServer(dir.resolve("open"))) {
        assertThat(messages(appender)).contains("authentication: off: any client that names a cluster can read and "
            + "write it (--tokens-file or STRATA_TOKENS turns it on)");
      }
      appender.list.clear();
      try (TestServer ts = new TestServer(dir.resolve("closed"), c -> c.withTokens(Tokens.parse("c1:a,c2:b")))) {
        assertThat(messages(appender)).contains("authentication: on, tokens for 2 clusters");
      }
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(null);
      logger.setAdditive(true);
    }
  }

  private static java.util.List<String> messages(ListAppender<ILoggingEvent> appender) {
    synchronized (appender.list) {
      return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  @Test
  void servesHttpsWithAGivenCertificate() throws Exception {
    Path p12 = dir.resolve("server.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-dname",
        "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", p12.toString(), "-storepass", "changeit").redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    ServerConfig.TlsConfig tls = new ServerConfig.TlsConfig(p12, null, "changeit");
    try (TestServer ts = new TestServer(dir.resolve("data"), c -> c.withTls(tls))) {
      assertThat(ts.url()).startsWith("https://");
      KeyStore trust = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(p12)) {
        trust.load(in, "changeit".toCharArray());
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      try (HttpClient http = HttpClient.newBuilder().sslContext(ctx).build()) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(ts.url() + "/pos"))
            .header("Authorization", "cluster c1").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{}");
      }
    }
  }

  @Test
  void servesHttpsWithPemCertificateAndKey() throws Exception {
    Path cert = dir.resolve("cert.pem"), key = dir.resolve("key.pem");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(), "-out",
        cert.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    ServerConfig.TlsConfig tls = new ServerConfig.TlsConfig(cert, key, null);
    try (TestServer ts = new TestServer(dir.resolve("data"), c -> c.withTls(tls))) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      try (InputStream in = Files.newInputStream(cert)) {
        trust.setCertificateEntry("server",
            java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      try (HttpClient http = HttpClient.newBuilder().sslContext(ctx).build()) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(ts.url() + "/pos"))
            .header("Authorization", "cluster c1").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
      }
    }
  }

  @Test
  void metricsCountUploadsConflictsAndLag() throws Exception {
    try (TestServer ts = new TestServer(dir)) {
      ServerClient client = ts.client("c1");
      TestDb db = new TestDb(512);
      client.writeTx("db", db.commit(Map.of(1, db.fill('1')), 0));
      byte[] tx2 = db.commit(Map.of(1, db.fill('2')), 0);
      client.writeTx("db", tx2);
      assertThatThrownBy(() -> client.writeTx("db", tx2)).isInstanceOf(ServerException.class);
      ts.server.scheduler().runLevel(1);
      client.writeTx("db", db.commit(Map.of(1, db.fill('3')), 0));
      HttpResponse<byte[]> r = ts.raw("GET", "/metrics", null, null);
      assertThat(r.statusCode()).isEqualTo(200);
      String text = new String(r.body(), StandardCharsets.UTF_8);
      assertThat(text).contains("strata_server_uploads_total{result=\"ok\"} 3.0",
          "strata_server_uploads_total{result=\"conflict\"} 1.0", "strata_server_position_mismatches_total 1.0",
          "strata_server_hwm_lag_txids{cluster=\"c1\",database=\"db\"} 1.0",
          "strata_server_compaction_seconds_count{level=\"1\"} 1", "strata_server_upload_bytes_total");
    }
  }
}
