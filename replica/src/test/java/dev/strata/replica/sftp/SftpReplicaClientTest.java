package dev.strata.replica.sftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.SftpTestServer;
import dev.strata.replica.testing.TestLtx;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.sftp.common.SftpConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The contract against an in-process MINA SSHD server, plus authentication, host keys and reconnection. */
class SftpReplicaClientTest extends ReplicaClientContractTest {
  @TempDir static Path tmp;
  static SftpTestServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server = SftpTestServer.start(tmp.resolve("sftp-root"));
  }

  @AfterAll
  static void stopServer() throws IOException {
    server.close();
  }

  @Override
  protected ReplicaClient open(String name) {
    return ReplicaUrl.open(url(name));
  }

  @Override
  protected String url(String name) {
    return server.url("/backups/" + name);
  }

  @Override
  protected boolean listingCarriesHeader() {
    return true;
  }

  @Override
  protected void assertPartialWriteLeftOver(TxidRange range) throws Exception {
    try (var files = Files.list(server.root().resolve("backups").resolve(rootName).resolve("0"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .startsWith("." + range.fileName() + ".tmp-");
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private String base() {
    return "sftp://" + SftpTestServer.USER + "@127.0.0.1:" + server.port() + "/backups/" + rootName;
  }

  private static void roundTrip(ReplicaClient c) throws IOException {
    TestLtx f = TestLtx.of(1, 2, 2, 1);
    c.writeFile(0, f.info(), f.stream(), f.size());
    try (InputStream in = c.openFile(0, f.range(), 0)) {
      assertThat(in.readAllBytes()).isEqualTo(f.bytes());
    }
  }

  @Test
  void noConnectionUntilAsked() throws Exception {
    int before = server.sessionsOpened();
    try (ReplicaClient c = ReplicaUrl.open(url(rootName))) {
      c.child("x");
      Thread.sleep(500);
      assertThat(server.sessionsOpened()).isEqualTo(before);
      c.listFiles(0);
      c.child("x").listFiles(0);
      assertThat(server.sessionsOpened()).isEqualTo(before + 1);
    }
  }

  @Test
  void rsaKeysWork() throws Exception {
    Path rsa = server.addClientKey(KeyPairProvider.SSH_RSA);
    try (ReplicaClient c = ReplicaUrl.open(server.url("/backups/" + rootName, rsa))) {
      roundTrip(c);
    }
  }

  @Test
  void passwordsWork() throws Exception {
    server.setPassword("s3cret:+/");
    try (ReplicaClient c = ReplicaUrl.open(base().replace(SftpTestServer.USER + "@", SftpTestServer.USER + ":"
        + enc("s3cret:+/") + "@") + "?host-key=" + enc(server.hostKeyLine()))) {
      roundTrip(c);
    }
    try (ReplicaClient c = ReplicaUrl.open(base() + "?password=" + enc("s3cret:+/") + "&host-key="
        + enc(server.hostKeyLine()))) {
      assertThat(c.listFiles(0)).hasSize(1);
    }
    try (ReplicaClient c = ReplicaUrl.open(base() + "?password=wrong&host-key=" + enc(server.hostKeyLine()))) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessage("sftp replica: authentication failed for strata@127.0.0.1:" + server.port()
              + " (password refused)");
    } finally {
      server.setPassword(null);
    }
  }

  @Test
  void anUnknownClientKeyIsRefused() throws Exception {
    Path key = tmp.resolve("stranger-key");
    try (OutputStream out = Files.newOutputStream(key)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519,
          256), "stranger", null, out);
    }
    Logger logger = (Logger) LoggerFactory.getLogger(SftpConnection.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    Level level = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    try (ReplicaClient c = ReplicaUrl.open(server.url("/backups/" + rootName, key))) {
      // The error names the key by its role; which file that was is for the debug log.
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessage("sftp replica: authentication failed for strata@127.0.0.1:" + server.port()
              + " (the configured key refused)");
      assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
          .anyMatch(m -> m.contains(key.toString()));
      assertThat(logs.list).filteredOn(e -> e.getFormattedMessage().contains(key.toString()))
          .allMatch(e -> e.getLevel() == Level.DEBUG);
    } finally {
      logger.detachAppender(logs);
      logger.setLevel(level);
    }
  }

  @Test
  void aWrongHostKeyIsRefused() throws Exception {
    String other = PublicKeyEntry.toString(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256).getPublic());
    String url = base() + "?key-path=" + enc(server.clientKey().toString()) + "&host-key=" + enc(other);
    try (ReplicaClient c = ReplicaUrl.open(url)) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageStartingWith("sftp host key mismatch for 127.0.0.1:" + server.port())
          .hasMessageContaining("refusing to connect")
          .message().doesNotContain("\n");
    }
  }

  @Test
  void knownHostsFilesAreHonoured() throws Exception {
    String keyPath = "key-path=" + enc(server.clientKey().toString());
    Path good = tmp.resolve("known_hosts_good");
    Files.writeString(good, "# test\nexample.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWz3jX1kVtkCmGZ0bNmVvFnOI8yvAE"
        + "4gu5sNNl6HJvQ\n" + server.knownHostsLine() + "\n");
    try (ReplicaClient c = ReplicaUrl.open(base() + "?" + keyPath + "&known-hosts=" + enc(good.toString()))) {
      roundTrip(c);
    }

    Path wrong = tmp.resolve("known_hosts_wrong");
    String otherKey = PublicKeyEntry.toString(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256)
        .getPublic());
    Files.writeString(wrong, "[127.0.0.1]:" + server.port() + " " + otherKey + "\n");
    try (ReplicaClient c = ReplicaUrl.open(base() + "?" + keyPath + "&known-hosts=" + enc(wrong.toString()))) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageStartingWith("sftp host key mismatch for 127.0.0.1:" + server.port())
          .hasMessageContaining(wrong.toString());
    }

    Path unknown = tmp.resolve("known_hosts_unknown");
    Files.writeString(unknown, "[127.0.0.1]:1 " + server.hostKeyLine() + "\n");
    try (ReplicaClient c = ReplicaUrl.open(base() + "?" + keyPath + "&known-hosts=" + enc(unknown.toString()))) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageStartingWith("sftp replica: host 127.0.0.1:" + server.port() + " is unknown: not in " + unknown);
    }

    Path missing = tmp.resolve("no_such_known_hosts");
    assertThatThrownBy(() -> ReplicaUrl.open(base() + "?" + keyPath + "&known-hosts=" + enc(missing.toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sftp replica: known-hosts file " + missing + " does not exist");
  }

  @Test
  void unreadableKeyFilesAreNamed() throws Exception {
    String hostKey = "&host-key=" + enc(server.hostKeyLine());
    assertThatThrownBy(() -> ReplicaUrl.open(base() + "?key-path=/no/such/key" + hostKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sftp replica: cannot read key file /no/such/key: no such file");
    Path garbage = tmp.resolve("garbage-key");
    Files.writeString(garbage, "not a key\n");
    assertThatThrownBy(() -> ReplicaUrl.open(base() + "?key-path=" + enc(garbage.toString()) + hostKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sftp replica: ")
        .hasMessageContaining(garbage.toString());
    Path fifo = tmp.resolve("fifo-key");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> { // opening a FIFO waits for a writer
      assertThatThrownBy(() -> ReplicaUrl.open(base() + "?key-path=" + enc(fifo.toString()) + hostKey))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("sftp replica: cannot read key file " + fifo + ": not a regular file");
    });
  }

  @Test
  void aDroppedSessionIsReopened() throws Exception {
    roundTrip(client);
    server.dropAllSessions();
    assertThat(client.listFiles(0)).hasSize(1);
    assertThat(((SftpReplicaClient) client).connects()).isEqualTo(2);
  }

  @Test
  void anOperationCutByADropIsRepeatedOnceAfterReconnecting() throws Exception {
    roundTrip(client); // the level directory now exists and is known
    TestLtx f = TestLtx.of(3, 3, 1, 3);
    server.dropOnNextRequest(SftpConstants.SSH_FXP_OPEN);
    client.writeFile(0, f.info(), f.stream(), f.size());
    assertThat(((SftpReplicaClient) client).connects()).isEqualTo(2);

    server.dropOnNextRequest(SftpConstants.SSH_FXP_READDIR);
    assertThat(client.listFiles(0)).extracting(LtxFileMeta::range).contains(f.range());
    assertThat(((SftpReplicaClient) client).connects()).isEqualTo(3);
  }

  @Test
  void aStalledRequestTimesOutAndIsRepeatedOnANewSession() throws Exception {
    try (ReplicaClient c = ReplicaUrl.open(url(rootName) + "&timeout=1s")) {
      roundTrip(c);
      server.stallOnNextRequest(SftpConstants.SSH_FXP_READDIR);
      assertThat(c.listFiles(0)).hasSize(1);
      assertThat(((SftpReplicaClient) c).connects()).isEqualTo(2);
    }
  }

  @Test
  void anUploadCutAfterItsDataWasTakenFailsAndLeavesNothing() throws Exception {
    roundTrip(client);
    TestLtx f = TestLtx.of(5, 5, 50, 5);
    server.dropOnNextRequest(SftpConstants.SSH_FXP_WRITE);
    assertThatThrownBy(() -> client.writeFile(0, f.info(), f.stream(), f.size())).isInstanceOf(IOException.class)
        .hasMessageStartingWith("sftp replica: connection to strata@127.0.0.1:" + server.port() + " lost: ");
    assertThat(client.listFiles(0)).extracting(LtxFileMeta::range).doesNotContain(f.range());
    client.writeFile(0, f.info(), f.stream(), f.size());
    assertThat(client.head(0, f.range()).size()).isEqualTo(f.size());
  }

  @Test
  void theServerKeepsClientsInsideItsRoot() throws Exception {
    Files.writeString(tmp.resolve("outside.txt"), "secret");
    var conn = new SftpConnection(server.config("/"));
    try {
      for (String p : new String[] {"/../outside.txt", "../outside.txt", "/../../outside.txt"}) {
        assertThatThrownBy(() -> conn.call(sftp -> sftp.stat(p))).as(p).isInstanceOf(IOException.class);
      }
      String top = conn.call(sftp -> sftp.canonicalPath("/../.."));
      assertThat(top).isEqualTo("/");
    } finally {
      conn.close();
    }
  }

  @Test
  void missingUserHostOrCredentialsAreNamed() {
    String hk = "host-key=" + enc(server.hostKeyLine());
    assertThatThrownBy(() -> ReplicaUrl.open("sftp://127.0.0.1/x?" + hk)).hasMessageContaining("missing user");
    assertThatThrownBy(() -> ReplicaUrl.open("sftp:///x")).hasMessageContaining("missing host");
    assertThatThrownBy(() -> ReplicaUrl.open("sftp://u@h/x?" + hk)).hasMessageContaining("key-path");
    assertThatThrownBy(() -> ReplicaUrl.open("sftp://u@h/x?password=p&host-key=nonsense"))
        .hasMessageContaining("invalid host-key");
    assertThatThrownBy(() -> ReplicaUrl.open("sftp://u@h/a/../b?password=p&" + hk)).hasMessageContaining("..");
    assertThatThrownBy(() -> ReplicaUrl.open("sftp://u@h?password=p&" + hk)).hasMessageContaining("absolute");
  }
}
