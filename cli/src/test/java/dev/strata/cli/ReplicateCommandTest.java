package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxHeader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicateCommandTest {
  @TempDir Path dir;

  record Result(int code, String err) {}

  static Result run(String... args) {
    PrintStream old = System.err;
    var buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Result(code, buf.toString(StandardCharsets.UTF_8).trim());
    } finally {
      System.setErr(old);
    }
  }

  static String sqlite(Path db, String sql) throws Exception {
    Process p = new ProcessBuilder("sqlite3", "-cmd", ".timeout 10000", db.toString(), sql).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  /** Bad input: one line, non-zero exit, and nothing written (no meta directory, no replica). */
  void assertRefused(Result r, String message) throws IOException {
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).startsWith("strata: ").contains(message).doesNotContain("\n").doesNotContain("Exception");
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.endsWith("-strata") || n.equals("replica"));
    }
  }

  @Test
  void missingDatabase() throws Exception {
    assertRefused(run("replicate", dir.resolve("missing.db").toString(), dir.resolve("replica").toString()),
        "does not exist");
  }

  @Test
  void notASqliteFile() throws Exception {
    Path f = dir.resolve("notes.db");
    Files.writeString(f, "these are notes, not a database\n".repeat(10));
    assertRefused(run("replicate", f.toString(), dir.resolve("replica").toString()), "is not a SQLite database");
  }

  @Test
  void unknownReplicaScheme() throws Exception {
    Path db = dir.resolve("a.db");
    sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);");
    assertRefused(run("replicate", db.toString(), "gopher://host/x"), "unknown replica URL scheme \"gopher\"");
  }

  @Test
  void unreadableOrBrokenConfig() throws Exception {
    assertRefused(run("replicate", "-config", dir.resolve("nope.yml").toString()), "does not exist");
    Path d = Files.createDirectory(dir.resolve("conf.d"));
    assertRefused(run("replicate", "-config", d.toString()), "cannot be read");
    Path bad = dir.resolve("bad.yml");
    Files.writeString(bad, "dbs:\n  - path: " + dir.resolve("a.db") + "\n    replicaz: []\n");
    assertRefused(run("replicate", "-config", bad.toString()), "dbs[0].replicaz: unknown key \"replicaz\"");
  }

  @Test
  void missingReplicaUrlAndNonWalDatabase() throws Exception {
    Path db = dir.resolve("a.db");
    sqlite(db, "CREATE TABLE t(x);");
    assertRefused(run("replicate", db.toString()), "at least one replica URL");
    assertRefused(run("replicate", db.toString(), dir.resolve("replica").toString()), "not in WAL mode");
  }

  // --- the launcher, in a child JVM ---

  Process launch(String... args) throws IOException {
    return launch(dir, args);
  }

  /** {@code strata ARGS} in a child JVM, its output to {@code dir/strata.log}. */
  static Process launch(Path dir, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), "dev.strata.cli.Main"));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("strata.log").toFile())
        .start();
  }

  @Test
  void sigtermRunsAFinalSyncAndExitsZero() throws Exception {
    Path db = dir.resolve("a.db");
    Path replica = dir.resolve("replica");
    sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    Process p = launch("replicate", "-sync-interval", "10m", db.toString(), replica.toString());
    awaitFile(replica.resolve("9"));
    for (int i = 0; i < 10; i++) sqlite(db, "INSERT INTO t(v) VALUES ('row " + i + "')");
    p.destroy(); // SIGTERM: the 10-minute interval never elapsed, so only the final sync captures the rows
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("strata.log"))).isZero();
    assertThat(lastPostApply(replica)).isEqualTo(checksumAfterCheckpoint(db));
  }

  @Test
  void execRunsTheChildAndExitsWithItsCode() throws Exception {
    Path db = dir.resolve("a.db");
    Path replica = dir.resolve("replica");
    sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    String child = "sh -c 'for i in 1 2 3 4 5; do sqlite3 -cmd \".timeout 5000\" " + db
        + " \"INSERT INTO t(v) VALUES ($i)\"; done; exit 3'";
    Process p = launch("replicate", "-exec", child, db.toString(), replica.toString());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("strata.log"))).isEqualTo(3);
    assertThat(sqlite(db, "SELECT count(*) FROM t")).isEqualTo("5");
    assertThat(lastPostApply(replica)).isEqualTo(checksumAfterCheckpoint(db));
  }

  @Test
  void configFileWithTwoDatabasesAndMetrics() throws Exception {
    Path a = dir.resolve("a.db"), b = dir.resolve("b.db");
    for (Path db : List.of(a, b)) sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path yml = dir.resolve("strata.yml");
    Files.writeString(yml, """
        addr: "127.0.0.1:%d"
        dbs:
          - path: %s
            replicas:
              - path: %s
              - url: file://%s
          - path: %s
            replica:
              path: ${REPLICA_B}
        """.formatted(port, a, dir.resolve("ra1"), dir.resolve("ra2"), b));
    var pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main",
        "replicate", "-config", yml.toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("strata.log").toFile());
    pb.environment().put("REPLICA_B", dir.resolve("rb").toString());
    Process p = pb.start();
    awaitFile(dir.resolve("rb").resolve("9"));
    awaitFile(dir.resolve("ra2").resolve("9"));
    sqlite(a, "INSERT INTO t(v) VALUES ('a')");
    String metrics = "";
    for (int i = 0; i < 100 && !metrics.contains("strata_replica_txid{db=\"" + a + "\",replica=\"file-2\"} 2.0"); i++) {
      Thread.sleep(200);
      try (InputStream in = java.net.URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openStream()) {
        metrics = new String(in.readAllBytes());
      } catch (IOException e) {
        // not up yet
      }
    }
    assertThat(metrics).contains("strata_db_txid{db=\"" + a + "\"} 2.0", "strata_db_snapshots_total{db=\"" + b + "\"} 1.0",
        "strata_replica_txid{db=\"" + a + "\",replica=\"file-2\"} 2.0", "strata_replica_seconds_since_upload",
        "strata_db_replicated_txid{db=\"" + a + "\"}");
    p.destroy();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(lastPostApply(dir.resolve("ra1"))).isEqualTo(lastPostApply(dir.resolve("ra2")));
    assertThat(lastPostApply(dir.resolve("ra1"))).isEqualTo(checksumAfterCheckpoint(a));
  }

  static void awaitFile(Path dir) throws InterruptedException {
    for (int i = 0; i < 300 && !Files.isDirectory(dir); i++) Thread.sleep(100);
    assertThat(dir).isDirectory();
  }

  /** The PostApplyChecksum of the replica's newest file (levels 0 and 9). */
  static String lastPostApply(Path replica) throws IOException {
    Path newest = null;
    for (String level : List.of("0", "9")) {
      Path d = replica.resolve(level);
      if (!Files.isDirectory(d)) continue;
      try (Stream<Path> s = Files.list(d)) {
        for (Path f : s.filter(x -> x.toString().endsWith(".ltx")).toList()) {
          String n = f.getFileName().toString();
          if (newest == null || n.substring(17).compareTo(newest.getFileName().toString().substring(17)) > 0) newest = f;
        }
      }
    }
    try (InputStream in = Files.newInputStream(newest)) {
      return Checksum.format(LtxDecoder.verify(in).trailer().postApplyChecksum());
    }
  }

  /** The checksum of the database file once checkpointed completely. */
  static String checksumAfterCheckpoint(Path db) throws Exception {
    sqlite(db, "PRAGMA wal_checkpoint(TRUNCATE);");
    try (FileChannel ch = FileChannel.open(db, StandardOpenOption.READ)) {
      int pageSize = 4096;
      int lock = LtxHeader.lockPgno(pageSize);
      long sum = Checksum.EMPTY_DATABASE;
      byte[] page = new byte[pageSize];
      for (int p = 1; p <= ch.size() / pageSize; p++) {
        ch.read(ByteBuffer.wrap(page), (long) (p - 1) * pageSize);
        if (p != lock) sum ^= Checksum.ofPage(p, page);
      }
      return Checksum.format(Checksum.FLAG | sum);
    }
  }
}
