package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The oracle is only as good as its digest: the writer's per-commit digest (cached per table) must equal a digest
 * computed from scratch, on a copy made by another program (the sqlite3 CLI), whatever the copy's layout.
 */
class WriterScriptTest {
  @TempDir Path dir;

  private static void sqlite3(Path db, String sql) throws IOException {
    CommandRun r = CommandRun.run(List.of("/usr/bin/sqlite3", db.toString(), sql), Duration.ofMinutes(1),
        db.resolveSibling("sqlite3-" + System.nanoTime()));
    assertThat(r.exit()).as("sqlite3 %s: %s", sql, r.stderr()).isZero();
  }

  private Oracle write(long seed, int commits) throws IOException {
    WriterScript script = WriterScript.install(dir);
    Oracle oracle = new Oracle(dir.resolve("oracle.tsv"));
    try (WriterProcess w = WriterProcess.start(script, dir.resolve("app.db"), oracle, seed, dir.resolve("w.log"))) {
      for (int i = 0; i < commits; i++) {
        w.commit(1);
        w.command("check"); // a full recomputation agrees with the cached digest of every commit
        if (i == commits / 3) w.checkpoint("TRUNCATE");
        if (i == commits / 2) w.replaceDatabase();
        if (i == 2 * commits / 3) w.command("vacuum");
      }
    }
    oracle.refresh();
    return oracle;
  }

  @Test
  void everyCommitDigestMatchesAFullRecomputationAndIsUnique() throws IOException {
    Oracle oracle = write(11, 150);
    assertThat(oracle.size()).isGreaterThanOrEqualTo(152); // create + 150 + replace
    Set<String> digests = new HashSet<>();
    for (long s = 1; s <= oracle.size(); s++) digests.add(oracle.bySeq(s).digest());
    assertThat(digests).hasSize(oracle.size());
  }

  @Test
  void digestOfACopyMadeBySqlite3EqualsTheOracle() throws IOException {
    Oracle oracle = write(12, 120);
    WriterScript script = WriterScript.install(dir);
    Path backup = dir.resolve("backup.db");
    sqlite3(dir.resolve("app.db"), ".backup '" + backup + "'");
    Path vacuumed = dir.resolve("vacuumed.db");
    sqlite3(dir.resolve("app.db"), "VACUUM INTO '" + vacuumed + "'");
    for (Path copy : List.of(backup, vacuumed)) {
      WriterScript.DbDigest d = script.digest(copy, "full");
      assertThat(d.intact()).as(d.integrity()).isTrue();
      assertThat(d.seq()).isEqualTo(oracle.last().seq());
      assertThat(d.digest()).isEqualTo(oracle.last().digest());
    }
  }

  @Test
  void oneChangedValueChangesTheDigest() throws IOException {
    Oracle oracle = write(13, 60);
    WriterScript script = WriterScript.install(dir);
    Path copy = dir.resolve("copy.db");
    sqlite3(dir.resolve("app.db"), ".backup '" + copy + "'");
    sqlite3(copy, "UPDATE kv SET v = 'changed' WHERE k = (SELECT min(k) FROM kv);"
        + "INSERT INTO kv(k, v) SELECT 'zz-new', 1 WHERE NOT EXISTS (SELECT 1 FROM kv);");
    WriterScript.DbDigest d = script.digest(copy, "quick");
    assertThat(d.seq()).isEqualTo(oracle.last().seq());
    assertThat(d.digest()).isNotEqualTo(oracle.last().digest());
  }

  @Test
  void aDamagedFileFailsItsIntegrityCheck() throws IOException {
    write(14, 80);
    WriterScript script = WriterScript.install(dir);
    Path copy = dir.resolve("copy.db");
    sqlite3(dir.resolve("app.db"), ".backup '" + copy + "'");
    long size = Files.size(copy);
    try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
      byte[] junk = new byte[4096];
      java.util.Arrays.fill(junk, (byte) 0x5a);
      f.seek(size / 2);
      f.write(junk);
    }
    assertThat(script.digest(copy, "full").intact()).isFalse();
  }
}
