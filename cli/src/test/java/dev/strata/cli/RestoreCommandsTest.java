package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata restore}, {@code ltx}, {@code snapshots}, {@code restore-points} and {@code verify} end to end. */
class RestoreCommandsTest {
  @TempDir Path dir;
  private Path db;
  private Path replica;
  private LtxChain chain;
  private final List<byte[]> states = new ArrayList<>();
  private final List<LtxFileMeta> files = new ArrayList<>();
  private FakeClock clock;

  /** What a command printed and returned. */
  record Run(int exit, String out, String err) {}

  static Run strata(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int exit = Main.run(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @BeforeEach
  void backUpADatabase() throws Exception {
    db = dir.resolve("app.db");
    replica = dir.resolve("replica");
    clock = new FakeClock(Instant.parse("2026-11-21T09:00:00Z"));
    chain = new LtxChain(new FileReplicaClient(replica), clock, dir);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=DELETE");
      s.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
      s.execute("INSERT INTO notes(body) SELECT 'note ' || value FROM json_each('[1,2,3,4,5,6,7,8]')");
      files.add(chain.snapshotFile(db));
      states.add(Files.readAllBytes(db));
      for (int i = 0; i < 4; i++) {
        clock.advance(Duration.ofMinutes(30));
        s.execute("INSERT INTO notes(body) VALUES ('" + "later ".repeat(200 * (i + 1)) + "')");
        s.execute("UPDATE notes SET body = body || '!' WHERE id % 2 = " + (i % 2));
        files.add(chain.incrementFile(db, 2));
        states.add(Files.readAllBytes(db));
      }
    }
  }

  @Test
  void restoresLatestAndPointsInTime() throws Exception {
    Path out = dir.resolve("restored.db");
    Run r = strata("restore", "-o", out.toString(), replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("restored " + out).contains("TXID " + Txid.format(chain.txid()));
    assertThat(Files.readAllBytes(out)).isEqualTo(states.getLast());

    // Litestream's single-dash spelling and a TXID.
    Path atTxid = dir.resolve("at-txid.db");
    r = strata("restore", "-txid", Txid.format(files.get(2).maxTxid()), "-o", atTxid.toString(),
        "file://" + replica);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(atTxid)).isEqualTo(states.get(2));

    // A time between two backups gives the earlier one.
    Path atTime = dir.resolve("at-time.db");
    r = strata("restore", "--timestamp", "2026-11-21T10:15:00Z", "--output", atTime.toString(), replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(atTime)).isEqualTo(states.get(2));
  }

  @Test
  void refusesToOverwriteAndExplainsBadTargets() throws Exception {
    Path out = dir.resolve("taken.db");
    Files.writeString(out, "keep me");
    Run r = strata("restore", "-o", out.toString(), replica.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("strata: output file already exists: " + out);
    assertThat(Files.readString(out)).isEqualTo("keep me");

    r = strata("restore", "-if-db-not-exists", "-o", out.toString(), replica.toString());
    assertThat(r.exit()).isZero();
    assertThat(Files.readString(out)).isEqualTo("keep me");

    r = strata("restore", "--force", "-o", out.toString(), replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(states.getLast());

    r = strata("restore", "-txid", Txid.format(files.get(1).minTxid()), "-o", dir.resolve("x.db").toString(),
        replica.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("is not a restore point; nearest: " + Txid.format(files.get(0).maxTxid()))
        .contains(Txid.format(files.get(1).maxTxid())).doesNotContain("Exception");

    r = strata("restore", "-timestamp", "2026-11-21T08:00:00Z", "-o", dir.resolve("x.db").toString(),
        replica.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("before the first backup");
    assertThat(dir.resolve("x.db")).doesNotExist();

    r = strata("restore", "-timestamp", "yesterday", "-o", dir.resolve("x.db").toString(), replica.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("invalid timestamp");

    r = strata("restore", "-config", dir.resolve("none.yml").toString(), db.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("config file").contains("does not exist");
  }

  @Test
  void emptyReplica() {
    Path empty = dir.resolve("empty-replica");
    Run r = strata("restore", "-o", dir.resolve("e.db").toString(), empty.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("no backup found");
    r = strata("restore", "-if-replica-exists", "-o", dir.resolve("e.db").toString(), empty.toString());
    assertThat(r.exit()).isZero();
    assertThat(dir.resolve("e.db")).doesNotExist();
  }

  @Test
  void severalReplicasUseTheOneReachingFurthest() throws Exception {
    // A second replica holding only the first two states.
    Path behind = dir.resolve("behind");
    Files.createDirectories(behind.resolve("9"));
    Files.createDirectories(behind.resolve("0"));
    Files.copy(replica.resolve("9").resolve(files.get(0).fileName()), behind.resolve("9").resolve(files.get(0).fileName()));
    Files.copy(replica.resolve("0").resolve(files.get(1).fileName()), behind.resolve("0").resolve(files.get(1).fileName()));
    Path out = dir.resolve("furthest.db");
    Run r = strata("restore", "-o", out.toString(), behind.toString(), replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(states.getLast());
    assertThat(r.out()).contains(replica.toString());
  }

  @Test
  void dryRunPrintsThePlanAndWritesNothing() {
    Path out = dir.resolve("dry.db");
    Run r = strata("restore", "--dry-run", "-o", out.toString(), replica.toString());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("target:   TXID " + Txid.format(chain.txid()) + " at 2026-11-21T11:00:00.000Z")
        .contains("files:    5").contains("9      0000000000000001  0000000000000001");
    assertThat(out).doesNotExist();
    r = strata("restore", "-dry-run", "-json", "-o", out.toString(), replica.toString());
    assertThat(r.out()).contains("\"txid\" : \"" + Txid.format(chain.txid()) + "\"").contains("\"files\" : [");
  }

  @Test
  void listings() {
    Run r = strata("ltx", replica.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines().count()).isEqualTo(6); // header + 5 files
    r = strata("ltx", "ls", replica.toString(), "-level", "0", "--json");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("\"level\" : 0").doesNotContain("\"level\" : 9");
    r = strata("ltx", "-level", "x", replica.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("invalid level");
    r = strata("ltx", "-config", dir.resolve("none.yml").toString(), db.toString()); // a database: needs a config
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("none.yml does not exist");
    r = strata("snapshots", replica.toString());
    assertThat(r.out().lines().count()).isEqualTo(2);
    r = strata("restore-points", replica.toString());
    assertThat(r.out()).contains("2026-11-21T09:00:00.000Z").contains("2026-11-21T11:00:00.000Z");
    assertThat(r.out().lines().count()).isEqualTo(6);
  }

  @Test
  void verifyRestoresAndComparesTheSource() throws Exception {
    Run r = strata("verify", replica.toString(), "--db", db.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("ok: ").contains("has the same checksum");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("DELETE FROM notes WHERE id = 3");
    }
    r = strata("verify", replica.toString(), "--db", db.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).contains("MISMATCH");
  }

  @Test
  void verifyOfACorruptSnapshotFailsInOneLineEveryTime() throws Exception {
    Path snapshot;
    try (var files = Files.list(replica.resolve("9"))) {
      snapshot = files.filter(f -> f.toString().endsWith(".ltx")).findFirst().orElseThrow();
    }
    byte[] good = Files.readAllBytes(snapshot);
    List<String> uncaught = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread.UncaughtExceptionHandler old = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
    try {
      java.util.Random rnd = new java.util.Random(20);
      for (int run = 0; run < 60; run++) {
        byte[] bad = good.clone();
        int bit = run < 8 ? run * 13 * 8 : rnd.nextInt(bad.length * 8); // the header first, then anywhere
        bad[bit / 8] ^= (byte) (1 << (bit % 8));
        Files.write(snapshot, bad);
        Run r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60),
            () -> strata("verify", replica.toString()));
        // A flip in LZ4 framing that decodes to the same pages is harmless, and not hashed (spec: file checksum).
        assertThat(r.exit()).as("bit %d: %s", bit, r.err()).isIn(0, 1);
        assertThat(r.err().lines().filter(l -> l.startsWith("strata: "))).as("bit %d: %s", bit, r.err())
            .hasSize(r.exit());
        assertThat(r.err()).as("bit %d", bit).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(uncaught).as("bit %d", bit).isEmpty();
      }
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(old);
      Files.write(snapshot, good);
    }
  }

  /**
   * The stack trace once seen from {@code strata verify} in a real process: sqlite-jdbc, loaded on a background
   * thread while the restore runs (IntegrityCheck.preload), first deletes the native libraries that earlier JVMs
   * left in the temporary directory, and logs a failure to (another process deleting the same file first; a
   * leftover of a verify that exited while its loader was extracting) with the exception, which logback printed
   * with its trace. Whether the loader got that far before a failed verify exited was the race; an intact replica,
   * whose check waits for the loader, shows it every time. Here the failure is forced: a leftover that cannot be
   * deleted.
   */
  @Test
  void verifyInAProcessPrintsNoStackTrace() throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path leftover = Files.createDirectories(tmp.resolve("sqlite-" + org.sqlite.SQLiteJDBCLoader.getVersion()
        + "-00000000-0000-0000-0000-000000000000-libsqlitejdbc.so"));
    Files.writeString(leftover.resolve("in-the-way"), "");
    Path snapshot;
    try (var files = Files.list(replica.resolve("9"))) {
      snapshot = files.findFirst().orElseThrow();
    }
    for (boolean flipped : new boolean[] {false, true}) {
      if (flipped) {
        byte[] bad = Files.readAllBytes(snapshot);
        bad[120] ^= 0x10; // in the LZ4 frame's first block (the header is 100 bytes): found by the merge
        Files.write(snapshot, bad);
      }
      String logback = Path.of(Main.class.getResource("/logback.xml").toURI()).toString(); // the CLI's own
      Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
          "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + tmp, "-Dlogback.configurationFile=" + logback,
          "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main", "verify", replica.toString())
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(dir.resolve("err").toFile()).start();
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      String err = Files.readString(dir.resolve("err"));
      assertThat(p.exitValue()).as(err).isEqualTo(flipped ? 1 : 0);
      if (flipped) assertThat(err).contains("strata: replica file 9/");
      assertThat(err).doesNotContain("\tat ").doesNotContain("Exception");
    }
  }

  @Test
  void replicateCompactsAndRestoreFindsTheReplicaInTheConfig() throws Exception {
    Path app = dir.resolve("app-live.db");
    Path live = dir.resolve("live-replica");
    sqlite3(app, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    Path yml = dir.resolve("strata.yml");
    Files.writeString(yml, "dbs:\n  - path: " + app + "\n    replicas:\n      - path: " + live + "\n");
    Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main",
        "replicate", "-config", yml.toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("replicate.log").toFile()).start();
    try {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      int i = 0;
      while (!Files.isDirectory(live.resolve("1")) || i < 20) { // level 1 appears at a 10-second boundary
        sqlite3(app, "INSERT INTO t(v) VALUES ('row " + i++ + "')");
        Thread.sleep(500);
        assertThat(System.nanoTime()).as(Files.readString(dir.resolve("replicate.log"))).isLessThan(deadline);
      }
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("replicate.log"))).isZero();
    String dump = sqlite3(app, ".dump");

    // strata ltx / restore-points by database path; then restore in place after losing the database.
    Run r = strata("ltx", "-config", yml.toString(), app.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("\n1      ").contains("\n9      ");
    for (String suffix : new String[] {"", "-wal", "-shm"}) Files.deleteIfExists(Path.of(app + suffix));
    r = strata("restore", "-config", yml.toString(), app.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(sqlite3(app, ".dump")).isEqualTo(dump);
    r = strata("restore", "-if-db-not-exists", "-config", yml.toString(), app.toString());
    assertThat(r.exit()).isZero();
    r = strata("verify", "-config", yml.toString(), app.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("has the same checksum");
  }

  private static String sqlite3(Path db, String sql) throws Exception {
    Process p = new ProcessBuilder("sqlite3", "-cmd", ".timeout 10000", db.toString(), sql).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void verifyReadsTheSourceThroughItsWal() throws Exception {
    Path wal = dir.resolve("wal.db");
    Path walReplica = dir.resolve("wal-replica");
    LtxChain walChain = new LtxChain(new FileReplicaClient(walReplica), clock, dir);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + wal); Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA wal_autocheckpoint=0");
      s.execute("CREATE TABLE t(x)");
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      walChain.snapshotFile(wal);
      s.execute("INSERT INTO t VALUES (randomblob(5000))");
      s.execute("INSERT INTO t VALUES (randomblob(300))");
      walChain.incrementWal(wal); // the committed frames stay in the WAL: the source's state is file + WAL
      Run r = strata("verify", walReplica.toString(), "--db", wal.toString());
      assertThat(r.exit()).as(r.out() + r.err()).isZero();
      assertThat(r.out()).contains("has the same checksum");
    }
  }
}
