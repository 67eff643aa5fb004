package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata sync} and {@code strata status} against a real {@code strata replicate} (a child JVM) with a
 * 10-minute sync interval: a plain wait forces nothing and times out (exit 1), {@code --now} makes the commits
 * durable and prints their TXID, and no agent is exit 2.
 */
class SyncCommandTest {
  @TempDir Path dir;

  record Out(int code, String out, String err) {}

  static Out run(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Out(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8).trim());
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void syncWaitAndStatusTalkToTheRunningAgent() throws Exception {
    Path db = dir.resolve("a.db");
    Path replica = dir.resolve("replica");
    assertThat(run("sync", "--wait", db.toString()).code()).as("no agent").isEqualTo(2);
    ReplicateCommandTest.sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    Process p = ReplicateCommandTest.launch(dir, "replicate", "-sync-interval", "10m", db.toString(), replica.toString());
    try {
      ReplicateCommandTest.awaitFile(replica.resolve("9"));
      for (int i = 0; i < 100 && !Files.exists(dir.resolve(".a.db-strata.sock")); i++) Thread.sleep(100);
      ReplicateCommandTest.sqlite(db, "INSERT INTO t(v) VALUES ('x')");

      Out waited = run("sync", "--wait", "--timeout", "1s", db.toString());
      assertThat(waited.code()).as(waited.err()).isEqualTo(1); // the next regular pass is 10 minutes away
      assertThat(waited.err()).startsWith("strata: ").contains("not durable").doesNotContain("\n");

      Out now = run("sync", "--wait", "--now", "--timeout", "30s", db.toString());
      assertThat(now.code()).as(now.err()).isZero();
      assertThat(now.out()).isEqualTo("0000000000000002");
      assertThat(ControlServerFiles.maxTxid(replica)).isGreaterThanOrEqualTo(2);

      assertThat(run("sync", db.toString()).code()).isZero();
      Out status = run("status", db.toString());
      assertThat(status.code()).isZero();
      assertThat(status.out()).contains(db + ": TXID 0000000000000002", "file: TXID 0000000000000002, 0 TXIDs behind");
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("strata.log"))).isZero();
  }

  /** Level-0 and level-9 file names of a directory replica. */
  static final class ControlServerFiles {
    static long maxTxid(Path replica) throws IOException {
      long max = 0;
      for (String level : List.of("0", "9")) {
        Path d = replica.resolve(level);
        if (!Files.isDirectory(d)) continue;
        try (var s = Files.list(d)) {
          for (Path f : s.toList()) {
            String n = f.getFileName().toString();
            if (n.endsWith(".ltx")) max = Math.max(max, Long.parseUnsignedLong(n.substring(17, 33), 16));
          }
        }
      }
      return max;
    }
  }
}
