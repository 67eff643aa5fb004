package dev.strata.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.s3.S3Config;
import dev.strata.replica.s3.S3ReplicaClient;
import dev.strata.replica.sftp.SftpConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Replica URLs: every scheme's options, and a one-line error naming what is wrong in each bad one. */
class ReplicaUrlTest {
  private static final String HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWz3jX1kVtkCmGZ0bNmVvFnOI8yvAE4gu5sNNl6HJvQ";

  private static S3Config s3(String url) {
    try (var c = (S3ReplicaClient) ReplicaUrl.open(url)) {
      return c.config();
    }
  }

  private static SftpConfig sftp(String url) {
    return ReplicaUrl.sftpConfig(ReplicaUrl.Parts.parse("sftp", url.substring("sftp://".length())));
  }

  @Test
  void pathsAndFileUrls() throws Exception {
    try (var c = (FileReplicaClient) ReplicaUrl.open("/var/backups/db")) {
      assertThat(c.root()).isEqualTo(Path.of("/var/backups/db"));
    }
    try (var c = (FileReplicaClient) ReplicaUrl.open("relative/dir")) {
      assertThat(c.root()).isEqualTo(Path.of("relative/dir").toAbsolutePath());
    }
    try (var c = (FileReplicaClient) ReplicaUrl.open("file:///var/backups/my%20db")) {
      assertThat(c.root()).isEqualTo(Path.of("/var/backups/my db"));
      assertThat(c.type()).isEqualTo("file");
    }
    try (var c = (FileReplicaClient) ReplicaUrl.open("FILE://localhost/x")) {
      assertThat(c.root()).isEqualTo(Path.of("/x"));
    }
    assertThatThrownBy(() -> ReplicaUrl.open("file://host/x")).hasMessageContaining("file:///absolute/path");
    assertThatThrownBy(() -> ReplicaUrl.open("file:///x?y=1")).hasMessage("file URL: unknown option y");
  }

  @Test
  void aUrlWithoutSchemeIsRefusedNotTakenForAPath() { // found by the torture harness: "://x" replicated to ./:/x
    assertThatThrownBy(() -> ReplicaUrl.open("://nothing")).hasMessage("invalid replica URL (no scheme): ://nothing");
  }

  @Test
  void s3UrlsWithEveryOption() {
    S3Config c = s3("s3://my-bucket/some/prefix/?endpoint=http://127.0.0.1:9000&region=eu-west-1"
        + "&force-path-style=false&access-key-id=AKID&secret-access-key=se%2Fcr%2Bet&part-size=32MiB"
        + "&max-attempts=9&timeout=45s");
    assertThat(c.bucket()).isEqualTo("my-bucket");
    assertThat(c.prefix()).isEqualTo("some/prefix");
    assertThat(c.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(c.region()).isEqualTo("eu-west-1");
    assertThat(c.forcePathStyle()).isFalse();
    assertThat(c.accessKeyId()).isEqualTo("AKID");
    assertThat(c.secretAccessKey()).isEqualTo("se/cr+et");
    assertThat(c.partSize()).isEqualTo(32L << 20);
    assertThat(c.maxAttempts()).isEqualTo(9);
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(45));
    assertThat(c.location()).isEqualTo("s3://my-bucket/some/prefix");
    assertThat(c.toString()).doesNotContain("se/cr+et");
  }

  @Test
  void s3Defaults() {
    S3Config c = s3("s3://bucket");
    assertThat(c.prefix()).isEmpty();
    assertThat(c.endpoint()).isNull();
    assertThat(c.forcePathStyle()).isFalse();
    assertThat(c.accessKeyId()).isNull();
    assertThat(c.partSize()).isEqualTo(S3Config.DEFAULT_PART_SIZE);
    assertThat(c.location()).isEqualTo("s3://bucket");
    // An endpoint implies path style; a scheme-less local endpoint is http.
    S3Config local = s3("s3://bucket/p?endpoint=localhost:9000&forcePathStyle=");
    assertThat(local.forcePathStyle()).isTrue();
    assertThat(local.endpoint()).isEqualTo(URI.create("http://localhost:9000"));
    assertThat(s3("s3://b/p?endpoint=s3.example.com").endpoint()).isEqualTo(URI.create("https://s3.example.com"));
    S3Config camel = s3("s3://b/p?forcePathStyle=true&partSize=6MB&maxAttempts=2");
    assertThat(camel.forcePathStyle()).isTrue();
    assertThat(camel.partSize()).isEqualTo(6_000_000L);
    assertThat(camel.maxAttempts()).isEqualTo(2);
  }

  @Test
  void sftpUrlsWithEveryOption() {
    SftpConfig c = sftp("sftp://alice:p%40ss+word@backup.example.com:2222/srv/replicas/?key-path=/keys/id"
        + "&host-key=" + HOST_KEY.replace(" ", "%20") + "&timeout=500ms");
    assertThat(c.user()).isEqualTo("alice");
    assertThat(c.password()).isEqualTo("p@ss+word");
    assertThat(c.host()).isEqualTo("backup.example.com");
    assertThat(c.port()).isEqualTo(2222);
    assertThat(c.path()).isEqualTo("/srv/replicas");
    assertThat(c.keyPath()).isEqualTo(Path.of("/keys/id"));
    assertThat(c.hostKey()).isEqualTo(HOST_KEY);
    assertThat(c.knownHosts()).isNull();
    assertThat(c.timeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.location()).isEqualTo("sftp://alice@backup.example.com:2222/srv/replicas");
    assertThat(c.toString()).doesNotContain("p@ss");

    SftpConfig d = sftp("sftp://bob@[::1]/data?password=x");
    assertThat(d.host()).isEqualTo("::1");
    assertThat(d.port()).isEqualTo(22);
    assertThat(d.knownHosts()).isEqualTo(Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"));
    assertThat(sftp("sftp://bob@h/d?password=x&known-hosts=~/kh").knownHosts())
        .isEqualTo(Path.of(System.getProperty("user.home"), "kh"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gs://bucket/db", "gcs://bucket/db", "abs://account@container/db", "webdav://h/x",
      "nats://h:4222/b", "oss://bucket/db"})
  void otherLitestreamSchemesAreNotSupportedYet(String url) {
    assertThatThrownBy(() -> ReplicaUrl.open(url)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not supported yet");
  }

  @Test
  void badUrlsNameWhatIsWrong() {
    assertThatThrownBy(() -> ReplicaUrl.open("")).hasMessage("replica URL required");
    assertThatThrownBy(() -> ReplicaUrl.open("ftp://u:hunter2@h/x?secret-access-key=abc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("unknown replica URL scheme \"ftp\"")
        .message().doesNotContain("hunter2").doesNotContain("abc");
    assertThatThrownBy(() -> ReplicaUrl.open("s3:///prefix")).hasMessageContaining("missing bucket");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?bogus=1")).hasMessage("s3 URL: unknown option bogus");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?region=a&region=b")).hasMessageContaining("given twice");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?part-size=1MiB")).hasMessageContaining("part-size");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?part-size=lots")).hasMessageContaining("part-size");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?timeout=soon")).hasMessageContaining("timeout");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?endpoint=ftp://x")).hasMessageContaining("invalid endpoint");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?force-path-style=maybe"))
        .hasMessageContaining("force-path-style");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/p?access-key-id=x"))
        .hasMessageContaining("access-key-id and secret-access-key go together");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b/a/../c")).hasMessageContaining("invalid path");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b:99/c")).hasMessageContaining("bucket name");
    assertThatThrownBy(() -> ReplicaUrl.open("s3://b!/c")).hasMessageContaining("invalid bucket name");
    assertThatThrownBy(() -> ReplicaUrl.open("sftp://u@h:port/x")).hasMessageContaining("invalid port");
  }

  @Test
  void secretsAreRedacted() {
    assertThat(ReplicaUrl.redact("sftp://u:pw@h/x?password=p&key-path=/k"))
        .isEqualTo("sftp://u:***@h/x?password=***&key-path=/k");
    assertThat(ReplicaUrl.redact("s3://b/p?secret-access-key=abc&region=r"))
        .isEqualTo("s3://b/p?secret-access-key=***&region=r");
    // Whatever the URL looks like, and wherever it is in the text.
    String[][] cases = {
      {"not \"s3://AK:SE@b/p?endpoint=http://h:9000\" here", "not \"s3://***@b/p?endpoint=http://h:9000\" here"},
      {"s3://AKSE@b/p", "s3://***@b/p"},
      {"s3://AK:SE/b/p", "s3://***/b/p"},
      {"sftp://u:S/E@h/p", "sftp://u:***@h/p"},
      {"sftp://u@h:22/p?key-path=/k&host-key=x", "sftp://u@h:22/p?key-path=/k&host-key=x"},
      {"s3://b?accessKeyId=AK&secret_access_key=SE&secret%2Daccess%2Dkey=SE&Password=SE&x-amz-signature=SE&SE",
        "s3://b?accessKeyId=***&secret_access_key=***&secret%2Daccess%2Dkey=***&Password=***&x-amz-signature=***&***"},
      {"s3://b?endpoint=http%3A%2F%2FAK%3ASE%40h%3A9000&region=r", "s3://b?endpoint=http://***@h:9000&region=r"},
      {"://AK:SE@b", "://***@b"},
      {"see https://u:SE@host:2200/db/info?db=x&all, then", "see https://***@host:2200/db/info?db=x&all, then"},
      {"[::1]:22 and file:///a/b@c and s3://b/p@v1", "[::1]:22 and file:///a/b@c and s3://b/p@v1"},
    };
    for (String[] c : cases) assertThat(ReplicaUrl.redact(c[0])).as(c[0]).isEqualTo(c[1]);
  }

  @Test
  void sizesAndDurations() {
    assertThat(ReplicaUrl.size("x", "8388608")).isEqualTo(8388608);
    assertThat(ReplicaUrl.size("x", "5MB")).isEqualTo(5_000_000);
    assertThat(ReplicaUrl.size("x", "5MiB")).isEqualTo(5L << 20);
    assertThat(ReplicaUrl.size("x", "5M")).isEqualTo(5L << 20);
    assertThat(ReplicaUrl.size("x", "1GiB")).isEqualTo(1L << 30);
    assertThat(ReplicaUrl.duration("x", "30")).isEqualTo(Duration.ofSeconds(30));
    assertThat(ReplicaUrl.duration("x", "2m")).isEqualTo(Duration.ofMinutes(2));
  }
}
