package dev.strata.cli;

import static dev.strata.cli.RestoreCommandsTest.strata;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.cli.RestoreCommandsTest.Run;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.AgeTestKeys;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands on an age-encrypted replica: with, without and with the wrong identity; rekey; compact. */
class AgeCommandsTest {
  @TempDir Path dir;
  private Path db;
  private Path replica;
  private AgeTestKeys key;
  private byte[] last;

  @BeforeEach
  void backUpADatabase() throws Exception {
    db = dir.resolve("app.db");
    replica = dir.resolve("replica");
    key = AgeTestKeys.create(dir.resolve("keys"), "key.txt");
    backUp(AgeReplicaClient.wrap(new FileReplicaClient(replica), key.keys()), 3);
  }

  private void backUp(ReplicaClient client, int increments) throws Exception {
    FakeClock clock = new FakeClock(Instant.now().minus(Duration.ofHours(3)));
    LtxChain chain = new LtxChain(client, clock, dir);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=DELETE");
      s.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
      s.execute("INSERT INTO notes(body) SELECT 'note ' || value FROM json_each('[1,2,3,4,5,6,7,8]')");
      chain.snapshotFile(db);
      for (int i = 0; i < increments; i++) {
        clock.advance(Duration.ofMinutes(30));
        s.execute("INSERT INTO notes(body) VALUES ('" + "later ".repeat(5000 * (i + 1)) + "')");
        chain.incrementFile(db, 1);
      }
    }
    last = Files.readAllBytes(db);
  }

  private static void assertOneLine(Run r, String line) {
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("strata: " + line + System.lineSeparator());
  }

  @Test
  void everyReadCommandNeedsTheIdentityAndSaysSoInOneLine() throws Exception {
    Path out = dir.resolve("restored.db");
    String none = AgeReplicaClient.NO_IDENTITY;
    assertOneLine(strata("restore", "-o", out.toString(), replica.toString()), none);
    assertOneLine(strata("restore", "-o", out.toString(), "file://" + replica), none);
    assertOneLine(strata("verify", replica.toString()), none);
    assertThat(out).doesNotExist();

    AgeTestKeys wrong = AgeTestKeys.create(dir.resolve("keys"), "wrong.txt");
    Run r = strata("restore", "--age-identity", wrong.identityFile().toString(), "-o", out.toString(),
        replica.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("strata: wrong age identity: " + wrong.identityFile() + " does not open ")
        .hasLineCount(1).doesNotContain("Exception");
    r = strata("restore-points", "--age-identity", wrong.identityFile().toString(), replica.toString());
    assertThat(r.err()).startsWith("strata: wrong age identity").hasLineCount(1);
    assertThat(out).doesNotExist();
  }

  @Test
  void withTheIdentityEveryReadCommandWorks() throws Exception {
    String id = key.identityFile().toString();
    Path out = dir.resolve("restored.db");
    Run r = strata("restore", "--age-identity", id, "-o", out.toString(), replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(last);

    // The keys in the URL do the same.
    Path viaUrl = dir.resolve("via-url.db");
    r = strata("restore", "-o", viaUrl.toString(), "file://" + replica + "?age-identity=" + id);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(viaUrl)).isEqualTo(last);

    r = strata("restore-points", "--age-identity", id, replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines().count()).isEqualTo(5); // header + 4 points
    r = strata("ltx", "ls", "--age-identity", id, replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines().count()).isEqualTo(5); // header + 4 files
    r = strata("verify", "--age-identity", id, replica.toString(), "--db", db.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("has the same checksum");
  }

  @Test
  void filesDecryptedByTheAgeToolVerify() throws Exception {
    assumeTrue(new ProcessBuilder("sh", "-c", "command -v age").start().waitFor() == 0, "age is not installed");
    Path snapshot;
    try (Stream<Path> files = Files.list(replica.resolve("9"))) {
      snapshot = files.findFirst().orElseThrow();
    }
    Path plain = dir.resolve("plain.ltx");
    Process p = new ProcessBuilder("age", "-d", "-i", key.identityFile().toString(), "-o", plain.toString(),
        snapshot.toString()).inheritIO().start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    Run r = strata("ltx", "verify", plain.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains(": ok (");
  }

  @Test
  void rekeyMovesEveryFileToTheNewKeyAndResumes() throws Exception {
    AgeTestKeys next = AgeTestKeys.create(dir.resolve("keys"), "next.txt");
    String old = key.identityFile().toString();
    Run r = strata("rekey", replica.toString(), "--age-identity", old, "--age-recipient", next.recipient());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("re-encrypted 4 files").contains("skipped 0");

    // The old key opens nothing any more; the new one opens everything.
    Path out = dir.resolve("a.db");
    r = strata("restore", "--age-identity", old, "-o", out.toString(), replica.toString());
    assertThat(r.err()).startsWith("strata: wrong age identity");
    r = strata("restore", "--age-identity", next.identityFile().toString(), "-o", out.toString(),
        replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(last);

    // A rerun (an interrupted run, say) redoes only what the old key still opens.
    Files.delete(db);
    backUp(AgeReplicaClient.wrap(new FileReplicaClient(dir.resolve("other")), key.keys()), 0);
    Path stillOld = replica.resolve("8");
    Files.createDirectories(stillOld);
    try (Stream<Path> files = Files.list(dir.resolve("other").resolve("9"))) {
      Path f = files.findFirst().orElseThrow();
      Files.copy(f, stillOld.resolve(f.getFileName()));
    }
    r = strata("rekey", replica.toString(), "--age-identity", old, "--age-recipient", next.recipient());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("re-encrypted 1 file").contains("skipped 4");
  }

  @Test
  void aWriteOnlyReplicaIsCompactedWhereTheIdentityIs() throws Exception {
    Path writeOnly = dir.resolve("write-only");
    Files.delete(db);
    try (ReplicaClient w = ReplicaUrl.open("file://" + writeOnly + "?age-recipient=" + key.recipient())) {
      backUp(w, 3);
    }
    Run r = strata("compact", writeOnly.toString(), "--age-recipient", key.recipient());
    assertOneLine(r, AgeReplicaClient.NO_IDENTITY);
    r = strata("compact", writeOnly.toString(), "--age-recipient", key.recipient(), "--age-identity",
        key.identityFile().toString(), "--no-retention");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(writeOnly.resolve("1")).isDirectory();
    try (Stream<Path> files = Files.list(writeOnly.resolve("1"))) {
      Path f = files.findFirst().orElseThrow();
      assertThat(new String(Files.readAllBytes(f), 0, 21)).isEqualTo("age-encryption.org/v1");
    }
    Path out = dir.resolve("b.db");
    r = strata("restore", "--age-identity", key.identityFile().toString(), "-o", out.toString(),
        writeOnly.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(last);
  }
}
