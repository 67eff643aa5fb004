package dev.strata.replica.sftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.SftpTestServer;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** known_hosts files read as OpenSSH reads them, against a real server: what is accepted, what is refused, and why. */
class HostKeyCheckTest {
  @TempDir static Path tmp;
  static SftpTestServer server;
  static final AtomicInteger files = new AtomicInteger();

  @BeforeAll
  static void startServer() throws Exception {
    server = SftpTestServer.start(tmp.resolve("sftp-root"));
  }

  @AfterAll
  static void stopServer() throws IOException {
    server.close();
  }

  /** The server's host key line, {@code ssh-ed25519 AAAA…}. */
  private static String key() {
    return server.hostKeyLine();
  }

  /** {@code [127.0.0.1]:port}, the name ssh looks up for the test server. */
  private static String bracketed() {
    return "[127.0.0.1]:" + server.port();
  }

  private static String otherKey() throws Exception {
    return PublicKeyEntry.toString(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256).getPublic());
  }

  private static Path knownHosts(String... lines) throws IOException {
    Path file = tmp.resolve("known_hosts_" + files.incrementAndGet());
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private static ReplicaClient open(Path knownHosts) {
    return ReplicaUrl.open("sftp://" + SftpTestServer.USER + "@127.0.0.1:" + server.port() + "/backups/hk?key-path="
        + enc(server.clientKey().toString()) + "&known-hosts=" + enc(knownHosts.toString()));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void assertAccepted(Path knownHosts) throws IOException {
    try (ReplicaClient c = open(knownHosts)) {
      assertThat(c.listFiles(0)).isEmpty();
    }
  }

  /** The message of the refusal, which must be one line. */
  private static String refusal(Path knownHosts) {
    try (ReplicaClient c = open(knownHosts)) {
      c.listFiles(0);
    } catch (IOException | IllegalArgumentException e) {
      assertThat(e.getMessage()).doesNotContain("\n");
      return e.getMessage();
    }
    throw new AssertionError("the server was accepted");
  }

  /** The server key's OpenSSH fingerprint, computed here from the key blob: SHA256:base64 without padding. */
  private static String fingerprint() throws Exception {
    byte[] blob = Base64.getDecoder().decode(key().split(" ")[1]);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
    return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
  }

  /** A hashed known_hosts name as ssh-keygen -H writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
  private static String hashed(String name) throws Exception {
    byte[] salt = new byte[20];
    new java.security.SecureRandom().nextBytes(salt);
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(salt, "HmacSHA1"));
    byte[] hash = mac.doFinal(name.getBytes(StandardCharsets.UTF_8));
    return "|1|" + Base64.getEncoder().encodeToString(salt) + "|" + Base64.getEncoder().encodeToString(hash);
  }

  @Test
  void aRevokedKeyIsRefusedEvenWhenAnotherLineVouchesForIt() throws Exception {
    Path file = knownHosts("@revoked " + bracketed() + " " + key(), bracketed() + " " + key());
    assertThat(refusal(file)).isEqualTo("sftp host key for 127.0.0.1:" + server.port() + " is revoked: the server "
        + "offered ssh-ed25519 " + fingerprint() + ", marked @revoked in " + file + " line 1; refusing to connect");

    // The order of the lines does not matter, nor the host the @revoked line names: a revoked key is compromised.
    assertThat(refusal(knownHosts(bracketed() + " " + key(), "@revoked * " + key()))).contains("is revoked");
    assertThat(refusal(knownHosts(bracketed() + " " + key(), "@revoked other.example.com " + key())))
        .contains("is revoked");
    assertThat(refusal(knownHosts(bracketed() + " " + key(), "@revoked " + hashed("elsewhere") + " " + key())))
        .contains("is revoked");
    // Revoking another key leaves this one alone.
    assertAccepted(knownHosts("@revoked * " + otherKey(), bracketed() + " " + key()));
  }

  @Test
  void anUnknownHostIsRefusedWithTheKeyItOffered() throws Exception {
    Path file = knownHosts("example.com " + otherKey());
    String m = refusal(file);
    assertThat(m).startsWith("sftp replica: host 127.0.0.1:" + server.port() + " is unknown: not in " + file)
        .contains("the server offered ssh-ed25519 " + fingerprint())
        .contains("ssh-keyscan -p " + server.port() + " 127.0.0.1 >> " + file);
    assertThat(fingerprint()).doesNotEndWith("=");
  }

  @Test
  void aMismatchNamesBothKeys() throws Exception {
    String other = otherKey();
    Path file = knownHosts(bracketed() + " " + other);
    byte[] otherBlob = Base64.getDecoder().decode(other.split(" ")[1]);
    String otherFingerprint = "SHA256:" + Base64.getEncoder().withoutPadding()
        .encodeToString(MessageDigest.getInstance("SHA-256").digest(otherBlob));
    assertThat(refusal(file)).isEqualTo("sftp host key mismatch for 127.0.0.1:" + server.port() + ": the server "
        + "offered ssh-ed25519 " + fingerprint() + ", not the key in " + file + " line 1 (ssh-ed25519 "
        + otherFingerprint + "); refusing to connect");
  }

  @Test
  void hashedNamesMatchAsSshHashesThem() throws Exception {
    assertAccepted(knownHosts(hashed(bracketed()) + " " + key()));
    // Hashed names include the port: the name of port 22 does not vouch for another port.
    assertThat(refusal(knownHosts(hashed("127.0.0.1") + " " + key()))).contains("is unknown");
  }

  @Test
  void patternsAndNegationsMatchAsInOpenSsh() throws Exception {
    assertAccepted(knownHosts("[127.0.0.?]:" + server.port() + " " + key()));
    assertAccepted(knownHosts("other.example.com,[127.0.0.1]:" + server.port() + " " + key()));
    assertAccepted(knownHosts("* " + key()));
    assertAccepted(knownHosts("[127.0.0.1]:" + server.port() + " " + key() + " a comment"));
    // A negated pattern that matches drops the line, whatever else on it matches.
    assertThat(refusal(knownHosts("!" + bracketed() + ",* " + key()))).contains("is unknown");
    assertThat(refusal(knownHosts("*,!*127.0.0.1* " + key()))).contains("is unknown");
    // A plain name is port 22 only.
    assertThat(refusal(knownHosts("127.0.0.1 " + key()))).contains("is unknown");
  }

  @Test
  void certificateAuthoritiesAreRefusedClearly() throws Exception {
    Path file = knownHosts("@cert-authority * " + otherKey());
    assertThat(refusal(file)).startsWith("sftp replica: host 127.0.0.1:" + server.port() + " has only a "
        + "@cert-authority line in " + file + " (line 1); host certificates are not supported")
        .contains("the server offered ssh-ed25519 " + fingerprint());
    // A CA line for the host does not stand in the way of its own key.
    assertAccepted(knownHosts("@cert-authority * " + otherKey(), bracketed() + " " + key()));
    // Nor does a CA line make the host's own key acceptable when the plain line lists another one.
    assertThat(refusal(knownHosts("@cert-authority * " + key(), bracketed() + " " + otherKey())))
        .contains("host key mismatch");
  }

  @Test
  void unreadableLinesAreRefusedWithTheirNumber() throws Exception {
    Path misspelt = knownHosts("# a comment", "", "@revokd * " + key(), bracketed() + " " + key());
    assertThatThrownBy(() -> open(misspelt)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sftp replica: known-hosts file " + misspelt + " line 3: unknown marker @revokd (want "
            + "@revoked or @cert-authority)");
    Path noKey = knownHosts("@revoked * ssh-ed25519");
    assertThatThrownBy(() -> open(noKey)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sftp replica: known-hosts file " + noKey + " line 1: want [@marker] hosts key-type key");
    Path badKey = knownHosts(bracketed() + " ssh-ed25519 not-base64!");
    assertThatThrownBy(() -> open(badKey)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sftp replica: known-hosts file " + badKey + " line 1: the key is not base64");
    Path directory = Files.createDirectory(tmp.resolve("known_hosts_directory"));
    assertThatThrownBy(() -> open(directory)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sftp replica: known-hosts file " + directory + " is not a regular file");
    Path badHash = knownHosts("|1|abc " + key());
    assertThatThrownBy(() -> open(badHash)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sftp replica: known-hosts file " + badHash + " line 1: invalid hashed host name");
  }

  @Test
  void theHostKeyOptionIsAcceptedOrRefusedWithBothFingerprints() throws Exception {
    String url = "sftp://" + SftpTestServer.USER + "@127.0.0.1:" + server.port() + "/backups/hk?key-path="
        + enc(server.clientKey().toString()) + "&host-key=";
    try (ReplicaClient c = ReplicaUrl.open(url + enc(key()))) {
      assertThat(c.listFiles(0)).isEmpty();
    }
    try (ReplicaClient c = ReplicaUrl.open(url + enc(otherKey()))) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageStartingWith("sftp host key mismatch for 127.0.0.1:" + server.port() + ": the server offered "
              + "ssh-ed25519 " + fingerprint() + ", not the key in the host-key option (ssh-ed25519 SHA256:");
    }
  }
}
