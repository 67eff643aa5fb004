package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.level.LevelSchedule;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restore equals source: a real SQLite database written through JDBC and by the sqlite3 CLI is captured state by
 * state into an LTX chain, compacted through every level, and restored at its latest state and at earlier TXIDs
 * and timestamps. Oracles: the database file's bytes at each state, the rows the writer saw, and
 * {@code sqlite3 .dump}.
 */
class SqliteRestoreTest {
  @TempDir Path dir;

  /** A state the writer recorded. */
  record State(long txid, Instant time, byte[] bytes, String rows) {}

  private static final LevelConfig FAST = new LevelConfig(List.of(
      new Level(0, Duration.ZERO, Duration.ofHours(1)),
      new Level(1, Duration.ofSeconds(3), Duration.ofHours(1)),
      new Level(2, Duration.ofSeconds(10), Duration.ofHours(1)),
      new Level(3, Duration.ofSeconds(30), Duration.ofHours(1))),
      Duration.ofSeconds(60), Duration.ofHours(1));

  @Test
  void restoresEveryStateOfAJdbcWrittenDatabase() throws Exception {
    Path db = dir.resolve("src.db");
    FakeClock clock = new FakeClock(Instant.parse("2026-03-01T00:00:00Z"));
    FileReplicaClient replica = new FileReplicaClient(dir.resolve("replica"));
    LtxChain chain = new LtxChain(replica, clock, dir);
    LevelSchedule compactor = new LevelSchedule(replica, FAST, clock, dir);
    Map<Long, State> states = new LinkedHashMap<>();
    Random rnd = new Random(7);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA page_size=1024");
        s.execute("PRAGMA journal_mode=DELETE");
        s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      }
      write(c, rnd, 200);
      compactor.noteWritten(chain.snapshotFile(db));
      record(states, chain, clock, db, c);
      for (int i = 0; i < 150; i++) {
        clock.advance(Duration.ofSeconds(1));
        int txs = 1 + rnd.nextInt(3);
        for (int t = 0; t < txs; t++) write(c, rnd, rnd.nextInt(30));
        if (i % 37 == 20) {
          try (Statement s = c.createStatement()) {
            s.execute("DELETE FROM t WHERE id % 3 = 0");
            s.execute("VACUUM"); // shrinks the file: pages past the new commit must go
          }
          txs++;
        }
        compactor.noteWritten(chain.incrementFile(db, txs));
        compactor.runDue();
        record(states, chain, clock, db, c);
      }
    }
    clock.advance(Duration.ofSeconds(61));
    compactor.runDue();
    ReplicaFiles files = ReplicaFiles.list(replica);
    assertThat(files.level(1)).isNotEmpty();
    assertThat(files.level(2)).isNotEmpty();
    assertThat(files.level(3)).isNotEmpty();
    assertThat(files.level(9)).hasSizeGreaterThan(1); // the first snapshot and compacted ones

    RestorePlanner planner = new RestorePlanner(replica);
    // Latest, through the local (read in place) path.
    State last = states.values().stream().reduce((a, b) -> b).orElseThrow();
    RestorePlan latest = planner.latest();
    assertThat(latest.targetTxid()).isEqualTo(last.txid());
    assertRestored(replica, latest, last, true);

    // Every recorded state by TXID, through the download path (a wrapped client is treated as remote).
    CountingReplicaClient remote = new CountingReplicaClient(replica);
    int checked = 0;
    for (State s : states.values()) {
      RestorePlan p = planner.toTxid(s.txid());
      assertRestored(remote, p, s, checked++ % 25 == 0);
    }
    assertThat(remote.opens.get()).isPositive();

    // Timestamps: the last state at or before a time, including times between captures.
    List<State> list = new ArrayList<>(states.values());
    for (int i = 5; i < list.size(); i += 17) {
      State s = list.get(i);
      RestorePlan exact = planner.toTimestamp(s.time());
      assertThat(exact.targetTxid()).isEqualTo(s.txid());
      RestorePlan between = planner.toTimestamp(s.time().plusMillis(500));
      assertThat(between.targetTxid()).isEqualTo(s.txid());
      assertRestored(replica, between, s, false);
    }
  }

  @Test
  void restoresADatabaseWrittenByTheSqlite3Cli() throws Exception {
    Path db = dir.resolve("cli.db");
    FakeClock clock = new FakeClock(Instant.parse("2026-03-01T00:00:00Z"));
    FileReplicaClient replica = new FileReplicaClient(dir.resolve("replica"));
    LtxChain chain = new LtxChain(replica, clock, dir);
    sqlite3(db, "PRAGMA page_size=512; CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB);"
        + "INSERT INTO kv SELECT 'k'||value, randomblob(300) FROM generate_series(1, 400);");
    chain.snapshotFile(db);
    List<Long> points = new ArrayList<>();
    List<String> dumps = new ArrayList<>();
    points.add(chain.txid());
    dumps.add(sqlite3(db, ".dump"));
    for (int i = 0; i < 6; i++) {
      clock.advance(Duration.ofSeconds(2));
      sqlite3(db, "UPDATE kv SET v = randomblob(200 + " + i * 50 + ") WHERE rowid % " + (i + 2) + " = 0;"
          + "INSERT INTO kv VALUES('new" + i + "', zeroblob(5000));");
      chain.incrementFile(db, 2);
      points.add(chain.txid());
      dumps.add(sqlite3(db, ".dump"));
    }
    python("import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"DELETE FROM kv WHERE k LIKE 'k1%'\")\n"
        + "c.commit()\nc.execute('VACUUM')\nc.close()\n", db);
    clock.advance(Duration.ofSeconds(2));
    chain.incrementFile(db, 2);
    points.add(chain.txid());
    dumps.add(sqlite3(db, ".dump"));

    RestorePlanner planner = new RestorePlanner(replica);
    for (int i = 0; i < points.size(); i++) {
      Path out = dir.resolve("cli-restored-" + i + ".db");
      new RestoreExecutor(replica, new RestoreExecutor.Options(2, IntegrityCheck.FULL, false,
          RestoreProgress.silent())).restore(planner.toTxid(points.get(i)), out);
      assertThat(sqlite3(out, ".dump")).isEqualTo(dumps.get(i));
    }
  }

  private void assertRestored(dev.strata.replica.ReplicaClient client, RestorePlan plan, State want, boolean dump)
      throws Exception {
    Path out = dir.resolve("restored-" + Txid.format(want.txid()) + "-" + System.nanoTime() + ".db");
    RestoreResult r = new RestoreExecutor(client, new RestoreExecutor.Options(3, IntegrityCheck.QUICK, false,
        RestoreProgress.silent())).restore(plan, out);
    assertThat(r.txid()).isEqualTo(want.txid());
    assertThat(Files.readAllBytes(out)).as("bytes at TXID %s", Txid.format(want.txid())).isEqualTo(want.bytes());
    assertThat(rows(out)).isEqualTo(want.rows());
    if (dump) {
      Path src = dir.resolve("source-" + Txid.format(want.txid()) + ".db");
      Files.write(src, want.bytes());
      assertThat(sqlite3(out, ".dump")).isEqualTo(sqlite3(src, ".dump"));
    }
    assertThat(Files.exists(out.resolveSibling(out.getFileName() + ".tmp"))).isFalse();
    Files.delete(out);
  }

  private static void write(Connection c, Random rnd, int n) throws SQLException {
    c.setAutoCommit(false);
    try (PreparedStatement ins = c.prepareStatement("INSERT INTO t(v) VALUES (?)");
        PreparedStatement upd = c.prepareStatement("UPDATE t SET v = ? WHERE id = ?")) {
      for (int i = 0; i < n; i++) {
        String v = "row-" + rnd.nextLong() + "-" + "x".repeat(rnd.nextInt(400));
        if (rnd.nextBoolean()) {
          ins.setString(1, v);
          ins.executeUpdate();
        } else {
          upd.setString(1, v);
          upd.setInt(2, 1 + rnd.nextInt(400));
          upd.executeUpdate();
        }
      }
    }
    c.commit();
    c.setAutoCommit(true);
  }

  private static void record(Map<Long, State> states, LtxChain chain, FakeClock clock, Path db, Connection c)
      throws Exception {
    states.put(chain.txid(), new State(chain.txid(), clock.instant(), Files.readAllBytes(db), rows(c)));
  }

  private static String rows(Connection c) throws SQLException {
    StringBuilder sb = new StringBuilder();
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT id, v FROM t ORDER BY id")) {
      while (r.next()) sb.append(r.getLong(1)).append('=').append(r.getString(2)).append('\n');
    }
    return sb.toString();
  }

  private static String rows(Path db) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro")) {
      return rows(c);
    }
  }

  static String sqlite3(Path db, String sql) throws IOException, InterruptedException {
    return run(List.of("/usr/bin/sqlite3", db.toString()), sql);
  }

  private static void python(String script, Path db) throws IOException, InterruptedException {
    run(List.of("python3", "-c", script, db.toString()), "");
  }

  private static String run(List<String> cmd, String stdin) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(cmd + " failed: " + out);
    return out;
  }

}
