package dev.strata.cli;

import static dev.strata.cli.RestoreCommandsTest.strata;
import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.litestream.LitestreamSets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands on the golden Litestream replicas: restore (latest, -timestamp, -txid, -generation/-index), --dry-run, restore-points, snapshots, age, and replicate's refusal. */
class LitestreamCommandsTest {
  @TempDir Path dir;

  /** A copy of a 0.3 set whose second generation was written last. */
  private Path ls03(String set, String laterGeneration) throws Exception {
    Path r = LitestreamSets.copyReplica(set, dir.resolve(set));
    try (Stream<Path> files = Files.walk(r.resolve("generations/" + laterGeneration))) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) Files.setLastModifiedTime(p, FileTime.from(Instant.now().plusSeconds(60)));
      }
    }
    return r;
  }

  private static String latestSha(String set) throws Exception {
    return LitestreamSets.expected(set).stream().filter(e -> e.time() == null).findFirst().orElseThrow().sha256();
  }

  @Test
  void restoreLitestream03() throws Exception {
    Path r = ls03("ls03-basic", "7f18289bab8275b6");
    Path out = dir.resolve("out.db");
    var run = strata("restore", "-o", out.toString(), r.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("Litestream 0.3 replica, generation 7f18289bab8275b6");
    assertThat(LitestreamSets.digest(out).sha256()).isEqualTo(latestSha("ls03-basic"));

    var dry = strata("restore", "--dry-run", "-o", dir.resolve("dry.db").toString(), "file://" + r);
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out()).contains("(Litestream 0.3)").contains("generations/7f18289bab8275b6/snapshots/");
    assertThat(dir.resolve("dry.db")).doesNotExist();

    var gen = strata("restore", "-o", dir.resolve("gen.db").toString(), "-generation", "07411289ea7c06a7",
        "-index", "00000000", r.toString());
    assertThat(gen.exit()).as(gen.err()).isZero();
    assertThat(gen.out()).contains("generation 07411289ea7c06a7, index 00000000");

    var points = strata("restore-points", r.toString());
    assertThat(points.exit()).isZero();
    assertThat(points.out()).contains("Litestream 0.3 replica: 89 points");
    var snaps = strata("snapshots", r.toString());
    assertThat(snaps.out()).contains("Litestream 0.3 replica: 2 points");

    var missingGen = strata("restore", "-o", dir.resolve("x.db").toString(), "-generation", "0000000000000000",
        r.toString());
    assertThat(missingGen.exit()).isNotZero();
    assertThat(missingGen.err().strip()).doesNotContain("\n").contains("no generation 0000000000000000");
  }

  @Test
  void restoreLitestream05() throws Exception {
    Path r = LitestreamSets.set("ls05-levels").resolve("replica");
    var run = strata("restore", "-o", dir.resolve("out.db").toString(), r.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("Litestream 0.5 replica, TXID 00000000000001ad");
    assertThat(LitestreamSets.digest(dir.resolve("out.db")).sha256()).isEqualTo(latestSha("ls05-levels"));

    var txid = strata("restore", "-o", dir.resolve("txid.db").toString(), "-txid", "000000000000013b", r.toString());
    assertThat(txid.exit()).as(txid.err()).isZero();
    assertThat(txid.out()).contains("TXID 000000000000013b");

    var ts = strata("restore", "-o", dir.resolve("ts.db").toString(), "-timestamp", "2026-12-03T11:09:59.135Z",
        r.toString());
    assertThat(ts.exit()).as(ts.err()).isZero();
    assertThat(LitestreamSets.digest(dir.resolve("ts.db")).sha256())
        .isEqualTo("ac645937fbab9acacfb1913bad41534df2c0ae9b26fa87934e32e8f326e64413");

    var points = strata("restore-points", "--json", r.toString());
    assertThat(points.exit()).isZero();
    assertThat(points.out()).contains("\"txid\" : \"00000000000001ad\"");
    var snaps = strata("snapshots", r.toString());
    assertThat(snaps.out()).contains("Litestream 0.5 replica: 3 points");
  }

  @Test
  void restoreAgeEncrypted03() throws Exception {
    Path r = ls03("ls03-age", "f0b5ad9f8b5b6d69");
    var none = strata("restore", "-o", dir.resolve("none.db").toString(), r.toString());
    assertThat(none.exit()).isNotZero();
    assertThat(none.err().strip()).doesNotContain("\n").contains("encrypted");
    Path id = LitestreamSets.set("ls03-age").resolve("age-identity.txt");
    var run = strata("restore", "--age-identity", id.toString(), "-o", dir.resolve("out.db").toString(),
        r.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(LitestreamSets.digest(dir.resolve("out.db")).sha256()).isEqualTo(latestSha("ls03-age"));
  }

  @Test
  void restoreAgeEncrypted03WithTheKeysOfALitestreamConfig() throws Exception {
    Path r = ls03("ls03-age", "f0b5ad9f8b5b6d69");
    String key = Files.readAllLines(LitestreamSets.set("ls03-age").resolve("age-identity.txt")).stream()
        .filter(l -> l.startsWith("AGE-SECRET-KEY-1")).findFirst().orElseThrow();
    Path cfg = dir.resolve("litestream.yml"); // Litestream 0.3's shape: the secret key inline
    Files.writeString(cfg, "dbs:\n  - path: " + dir.resolve("data.db") + "\n    replicas:\n      - url: file://" + r
        + "\n        age:\n          identities:\n            - " + key + "\n");
    var run = strata("restore", "-config", cfg.toString(), "-o", dir.resolve("out.db").toString(),
        dir.resolve("data.db").toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(LitestreamSets.digest(dir.resolve("out.db")).sha256()).isEqualTo(latestSha("ls03-age"));
    assertThat(run.out() + run.err()).doesNotContain(key);
  }

  @Test
  void replicateRefusesALitestreamReplica() throws Exception {
    Path db = dir.resolve("app.db");
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + db); var s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("CREATE TABLE t(x)");
    }
    Path r = LitestreamSets.copyReplica("ls03-basic", dir.resolve("ls"));
    var run = strata("replicate", db.toString(), r.toString());
    assertThat(run.exit()).isNotZero();
    assertThat(run.err()).contains("Litestream 0.3").contains("strata import");
  }
}
