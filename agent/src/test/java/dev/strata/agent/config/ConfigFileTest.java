package dev.strata.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {
  @TempDir Path dir;

  static AgentConfig parse(String yaml) {
    return ConfigFile.parse(yaml, "strata.yml", Map.of("BUCKET", "my-bucket", "KEY", "AKIA", "SECRET", "s3cr=t"));
  }

  @Test
  void readsALitestreamConfigWithSeveralReplicas() {
    AgentConfig c = parse("""
        addr: ":9090"
        exec: "app --serve"
        access-key-id: ${KEY}
        secret-access-key: $SECRET
        dbs:
          - path: /data/app.db
            monitor-interval: 500ms
            checkpoint-interval: 30s
            min-checkpoint-page-count: 2000
            replicas:
              - url: s3://${BUCKET}/app
                endpoint: http://localhost:9000
                region: us-east-1
                force-path-style: true
                sync-interval: 10s
                retention: 72h
              - type: sftp
                host: backup.example.com:2222
                user: strata
                path: /backups/app
                key-path: /etc/strata/id_ed25519
                host-key: "ssh-ed25519 AAAA"
              - path: /mnt/backup/app
          - path: /data/other.db
            replica:
              type: s3
              bucket: other
              path: /x/y/
        """);
    assertThat(c.addr()).isEqualTo(":9090");
    assertThat(c.exec()).isEqualTo("app --serve");
    DatabaseSpec app = c.databases().getFirst();
    assertThat(app.path()).isEqualTo(Path.of("/data/app.db"));
    assertThat(app.meta()).isEqualTo(Path.of("/data/.app.db-strata"));
    assertThat(app.syncInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(app.capture().minCheckpointPages()).isEqualTo(2000);
    assertThat(app.capture().checkpointInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(app.replicas()).extracting(ReplicaSpec::url).containsExactly(
        "s3://my-bucket/app?endpoint=http%3A%2F%2Flocalhost%3A9000&region=us-east-1&access-key-id=AKIA"
            + "&secret-access-key=s3cr%3Dt&force-path-style=true",
        "sftp://strata@backup.example.com:2222/backups/app?key-path=%2Fetc%2Fstrata%2Fid_ed25519"
            + "&host-key=ssh-ed25519%20AAAA",
        "/mnt/backup/app");
    assertThat(app.replicas()).extracting(ReplicaSpec::name).containsExactly("s3", "sftp", "file");
    assertThat(app.replicas().getFirst().levels().snapshotRetention()).isEqualTo(Duration.ofHours(72));
    assertThat(c.databases().get(1).replicas().getFirst().url()).startsWith("s3://other/x/y?");
    assertThat(c.databases().get(1).syncInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void verifyIntervalSchedulesRestoreDrills() {
    var dbs = parse("dbs:\n  - path: /a.db\n    verify-interval: 6h\n    replica: {url: /b}\n  - path: /c.db\n"
        + "    replica: {url: /d}\n").databases();
    assertThat(dbs.get(0).verifyInterval()).isEqualTo(java.time.Duration.ofHours(6));
    assertThat(dbs.get(1).verifyInterval()).isNull();
  }

  @Test
  void controlSetsOrTurnsOffTheSocket() {
    var dbs = parse("""
        dbs:
          - path: /data/a.db
            replica: {url: /r/a}
          - path: /data/b.db
            control: /run/strata/b.sock
            replica: {url: /r/b}
          - path: /data/c.db
            control: off
            replica: {url: /r/c}
          - path: /data/d.db
            control: false
            replica: {url: /r/d}
        """).databases();
    assertThat(dbs).extracting(DatabaseSpec::controlSocket).containsExactly(Path.of("/data/.a.db-strata.sock"),
        Path.of("/run/strata/b.sock"), null, null);

    var off = parse("control: off\ndbs:\n  - path: /a.db\n    replica: {url: /b}\n  - path: /c.db\n"
        + "    control: /run/c.sock\n    replica: {url: /d}\n").databases();
    assertThat(off).extracting(DatabaseSpec::controlSocket).containsExactly(null, Path.of("/run/c.sock"));
    assertThat(parse("control: /run/app.sock\ndbs:\n  - path: /a.db\n    replica: {url: /b}\n").databases()
        .getFirst().controlSocket()).isEqualTo(Path.of("/run/app.sock"));
    assertThat(parse("control: off\ndbs:\n  - dir: /data\n    replica: {url: /b}\n").directories()).hasSize(1);

    assertThatThrownBy(() -> parse("control: /run/app.sock\ndbs:\n  - path: /a.db\n    replica: {url: /b}\n"
        + "  - path: /c.db\n    replica: {url: /d}\n"))
        .hasMessageStartingWith("strata.yml: control: a socket path at the top level serves one database")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n    control: /run/x.sock\n    replica: {url: /b}\n"
        + "  - path: /c.db\n    control: /run/x.sock\n    replica: {url: /d}\n"))
        .hasMessage("strata.yml: dbs: databases /a.db and /c.db have the same control socket /run/x.sock");
    assertThatThrownBy(() -> parse("dbs:\n  - dir: /data\n    control: /run/x.sock\n    replica: {url: /b}\n"))
        .hasMessageContaining("dbs[0].control: not valid with dir");
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n    control: {path: /x}\n    replica: {url: /b}\n"))
        .hasMessageContaining("dbs[0].control: expected a value");
  }

  @Test
  void unknownKeysAreErrorsNamingTheKey() {
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n    replicas:\n      - url: /b\n        sync-intervall: 1s\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("strata.yml: dbs[0].replicas[0].sync-intervall: unknown key \"sync-intervall\"");
    assertThatThrownBy(() -> parse("dbz: []\n")).hasMessageContaining("unknown key \"dbz\"");
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n    max-checkpoint-page-count: 10000\n    replica: {url: /b}\n"))
        .hasMessageContaining("never runs RESTART checkpoints");
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n    replica: {type: gs, url: gs://b/p}\n"))
        .hasMessageContaining("replica type \"gs\" is not supported");
  }

  @Test
  void levelsSnapshotAndDirectoryEntries() {
    AgentConfig c = parse("""
        levels:
          - interval: 30s
          - interval: 5m
            retention: 720h
        snapshot:
          interval: 12h
          retention: 7d
        dbs:
          - dir: /data/tenants
            pattern: "*.db"
            recursive: true
            replica:
              url: s3://bucket/tenants?region=eu-west-1
        """);
    var d = c.directories().getFirst();
    assertThat(d.pattern()).isEqualTo("*.db");
    assertThat(d.recursive()).isTrue();
    assertThat(d.levels().levels()).hasSize(3); // level 0 and the two configured
    assertThat(d.levels().level(1).interval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(d.levels().level(2).retention()).isEqualTo(Duration.ofDays(30));
    assertThat(d.levels().snapshotInterval()).isEqualTo(Duration.ofHours(12));
    DatabaseSpec one = d.specFor(Path.of("/data/tenants/acme/app.db"));
    assertThat(one.replicas().getFirst().url()).isEqualTo("s3://bucket/tenants/acme/app.db?region=eu-west-1");
    assertThat(one.meta()).isEqualTo(Path.of("/data/tenants/acme/.app.db-strata"));
  }

  @Test
  void badValuesAndFilesGiveOneLineErrors() throws Exception {
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n    checkpoint-interval: soon\n    replica: {url: /b}\n"))
        .hasMessageContaining("dbs[0].checkpoint-interval: invalid duration \"soon\"");
    assertThatThrownBy(() -> parse("dbs: [")).hasMessageStartingWith("strata.yml: invalid YAML at line");
    assertThatThrownBy(() -> parse("dbs:\n  - path: /a.db\n")).hasMessageContaining("no replica configured");
    assertThatThrownBy(() -> ConfigFile.load(dir.resolve("missing.yml"), true))
        .hasMessageContaining("does not exist");
    Path unreadable = dir.resolve("bad.yml");
    Files.write(unreadable, new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41});
    assertThatThrownBy(() -> ConfigFile.load(unreadable, true)).hasMessageContaining("bad.yml");
  }

  @Test
  void durationsAndEnvironment() {
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(EnvExpander.expand("a ${X} $Y $$ ${UNSET}.", Map.of("X", "1", "Y", "2"))).isEqualTo("a 1 2 $ .");
  }
}
