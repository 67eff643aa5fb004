package dev.strata.cli;

import static dev.strata.cli.ReplicateCommandTest.awaitFile;
import static dev.strata.cli.ReplicateCommandTest.sqlite;
import static dev.strata.cli.RestoreCommandsTest.strata;
import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.cli.RestoreCommandsTest.Run;
import dev.strata.replica.testing.AgeTestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata replicate} into encrypted directory replicas, then {@code strata restore} with the identity. */
class AgeReplicateRoundTripTest {
  @TempDir Path dir;

  @Test
  void replicateThenRestoreThroughEncryptedReplicas() throws Exception {
    AgeTestKeys key = AgeTestKeys.create(dir.resolve("keys"), "key.txt");
    Path db = dir.resolve("app.db");
    Path full = dir.resolve("full"), writeOnly = dir.resolve("write-only");
    sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    Path yml = dir.resolve("strata.yml");
    Files.writeString(yml, """
        dbs:
          - path: %s
            replicas:
              - path: %s
                age:
                  recipients: [%s]
                  identities: [%s]
              - path: %s
                age:
                  recipients: [%s]
        """.formatted(db, full, key.recipient(), key.identityFile(), writeOnly, key.recipient()));
    Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main",
        "replicate", "-config", yml.toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("strata.log").toFile()).start();
    try {
      awaitFile(full.resolve("9"));
      awaitFile(writeOnly.resolve("9"));
      for (int i = 0; i < 20; i++) {
        sqlite(db, "INSERT INTO t(v) VALUES ('row " + i + " " + "x".repeat(3000) + "')");
      }
      Thread.sleep(1500);
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    String log = Files.readString(dir.resolve("strata.log"));
    assertThat(p.exitValue()).as(log).isZero();

    for (Path replica : new Path[] {full, writeOnly}) {
      try (Stream<Path> files = Files.walk(replica)) {
        assertThat(files.filter(f -> f.toString().endsWith(".ltx")).toList()).isNotEmpty().allSatisfy(f ->
            assertThat(new String(Files.readAllBytes(f), 0, 21)).isEqualTo("age-encryption.org/v1"));
      }
      Path out = dir.resolve(replica.getFileName() + ".db");
      Run r = strata("restore", "-o", out.toString(), replica.toString());
      assertThat(r.err()).isEqualTo("strata: replica is encrypted; give an age identity (--age-identity or age: "
          + "identities)" + System.lineSeparator());
      r = strata("restore", "--age-identity", key.identityFile().toString(), "--integrity-check", "full", "-o",
          out.toString(), replica.toString());
      assertThat(r.exit()).as(r.err()).isZero();
      assertThat(sqlite(out, "SELECT count(*), sum(length(v)) FROM t")).isEqualTo(sqlite(db,
          "SELECT count(*), sum(length(v)) FROM t"));
    }
    // The database's config entry restores too: the identity comes from the config.
    Path again = dir.resolve("again.db");
    Run r = strata("restore", "-config", yml.toString(), "-o", again.toString(), db.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(sqlite(again, "SELECT count(*) FROM t")).isEqualTo("20");
  }
}
