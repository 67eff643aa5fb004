package dev.strata.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Litestream 0.3's per-replica {@code age:} keys. */
class AgeConfigTest {
  @TempDir Path dir;

  private AgentConfig parse(String yaml) {
    return ConfigFile.parse(yaml, "strata.yml", Map.of());
  }

  @Test
  void ageKeysBecomeReplicaUrlOptions() throws Exception {
    AgeKeys.Identity id = AgeKeys.newIdentity();
    Path key = dir.resolve("key.txt");
    Files.writeString(key, id.fileText());
    AgentConfig c = parse("""
        dbs:
          - path: %s
            replicas:
              - path: %s
                age:
                  recipients: [%s]
                  identities: [%s]
              - url: s3://bucket/app
                age:
                  recipients:
                    - %s
        """.formatted(dir.resolve("app.db"), dir.resolve("backup"), id.recipient(), key, id.recipient()));
    var replicas = c.databases().getFirst().replicas();
    assertThat(replicas.get(0).url()).startsWith("file://").contains("age-recipient=" + id.recipient())
        .contains("age-identity=");
    try (ReplicaClient r = ReplicaUrl.open(replicas.get(0).url())) {
      assertThat(r).isInstanceOfSatisfying(AgeReplicaClient.class, a -> {
        assertThat(a.encrypts()).isTrue();
        assertThat(a.decrypts()).isTrue();
        assertThat(a.keys().identities()).containsExactly(key);
      });
    }
    try (ReplicaClient r = ReplicaUrl.open(replicas.get(1).url())) {
      assertThat(r).isInstanceOfSatisfying(AgeReplicaClient.class, a -> assertThat(a.decrypts()).isFalse());
    }
    // The secret key never shows in a URL or an error.
    assertThat(replicas.get(0).url()).doesNotContain(id.secretKey());
  }

  @Test
  void badAgeKeysAreOneLineErrorsWithoutTheSecret() throws Exception {
    AgeKeys.Identity id = AgeKeys.newIdentity();
    assertThatThrownBy(() -> parse("""
        dbs:
          - path: /data/app.db
            replica:
              path: /backup
              age:
                recipients: [%s]
        """.formatted(id.secretKey()))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("age.recipients").hasMessageNotContaining(id.secretKey().substring(20));
    assertThatThrownBy(() -> parse("""
        dbs:
          - path: /data/app.db
            replica:
              path: /backup
              age:
                identities: [%s]
        """.formatted(dir.resolve("missing.txt")))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> parse("""
        dbs:
          - path: /data/app.db
            replica:
              path: /backup
              age:
                passphrase: x
        """)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown key \"passphrase\"");
  }
}
