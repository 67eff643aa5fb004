package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata restore -f} end to end, every part a real process: a python writer on a primary replicated by
 * {@code strata replicate}, the follower, and python readers on the follower's output checking that every read
 * transaction sees one of the writer's commits whole (the row count is one the writer recorded, and equals the
 * total written in the same transaction), with quick_checks between. The follower is killed with SIGKILL and
 * restarted (it continues from its state file), and the primary's WAL is checkpointed away while replication is
 * down (a new snapshot in the replica, applied as a snapshot).
 */
class FollowCommandTest {
  @TempDir Path dir;

  Process launch(String log, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-Dlogback.configurationFile=logback.xml", // the command's own, not a test jar's (WARN)
        "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main"));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile()).start();
  }

  Process python(String script, String... args) throws IOException {
    Path p = dir.resolve(script);
    if (!Files.exists(p)) {
      try (InputStream in = getClass().getResourceAsStream("/follow/" + script)) {
        Files.copy(in, p);
      }
    }
    List<String> cmd = new ArrayList<>(List.of("python3", p.toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(script + ".log").toFile())).start();
  }

  static void await(Process p) throws Exception {
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
  }

  /** Waits until the follower's output holds the primary's row count. */
  void awaitCaughtUp(Path primary, Path out, String log) throws Exception {
    String want = ReplicateCommandTest.sqlite(primary, "SELECT count(*) FROM t");
    String got = "";
    for (int i = 0; i < 600 && !got.equals(want); i++) {
      Thread.sleep(100);
      if (Files.exists(out)) got = ReplicateCommandTest.sqlite(out, "SELECT count(*) FROM t");
    }
    if (!got.equals(want)) {
      Path keep = Path.of(System.getProperty("java.io.tmpdir"), "follow-failure-" + ProcessHandle.current().pid());
      new ProcessBuilder("cp", "-a", dir.toString(), keep.toString()).start().waitFor();
      System.err.println("follow test: files kept in " + keep);
    }
    assertThat(got).as(Files.readString(dir.resolve(log))).isEqualTo(want);
  }

  @Test
  void followsAReplicaThroughAKillAndANewSnapshotWithoutTornReads() throws Exception {
    Path primary = dir.resolve("primary.db");
    Path replica = dir.resolve("replica");
    Path out = dir.resolve("follower.db");
    Path commits = dir.resolve("commits.txt");
    ReplicateCommandTest.sqlite(primary, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
        + " CREATE TABLE s(total INTEGER); INSERT INTO s VALUES (0);");
    Files.writeString(commits, "0\n");
    Process agent = launch("replicate.log", "replicate", "-sync-interval", "100ms", primary.toString(),
        replica.toString());
    ReplicateCommandTest.awaitFile(replica.resolve("9"));
    Process writer = python("writer.py", primary.toString(), "400", commits.toString());
    Process follower = launch("follow1.log", "restore", "-f", "-o", out.toString(), replica.toString(),
        "--interval", "100ms");
    for (int i = 0; i < 300 && !Files.exists(out); i++) Thread.sleep(100);
    assertThat(out).as(Files.readString(dir.resolve("follow1.log"))).exists();
    Path stop = dir.resolve("stop");
    List<Process> readers = List.of(python("reader.py", out.toString(), "ro", stop.toString(),
        dir.resolve("reader-ro.txt").toString()), python("reader.py", out.toString(), "rw", stop.toString(),
        dir.resolve("reader-rw.txt").toString()));

    Thread.sleep(3000);
    long killed = System.currentTimeMillis();
    follower.destroyForcibly(); // SIGKILL, maybe mid-batch
    follower.waitFor();
    assertThat(dir.resolve("follower.db-strata-follow")).exists();
    follower = launch("follow2.log", "restore", "-f", "-o", out.toString(), replica.toString(), "--interval",
        "100ms");
    for (int i = 0; i < 300 && !Files.readString(dir.resolve("follow2.log")).contains("following"); i++) {
      Thread.sleep(100);
    }
    long restarted = System.currentTimeMillis();
    await(writer);
    awaitCaughtUp(primary, out, "follow2.log");
    assertThat(Files.readString(dir.resolve("follow2.log"))).contains("continued from follower.db-strata-follow")
        .doesNotContain("restored TXID");

    // A continuity break: replication stops, the WAL is checkpointed away under it, and it starts again.
    agent.destroy();
    await(agent);
    await(python("writer.py", primary.toString(), "5", commits.toString(), "checkpoint"));
    agent = launch("replicate2.log", "replicate", "-sync-interval", "100ms", primary.toString(), replica.toString());
    await(python("writer.py", primary.toString(), "30", commits.toString()));
    awaitCaughtUp(primary, out, "follow2.log");
    assertThat(Files.readString(dir.resolve("follow2.log"))).contains("as a snapshot");

    Files.writeString(stop, "");
    for (Process r : readers) await(r);
    follower.destroy(); // SIGTERM: a clean exit
    assertThat(follower.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(follower.exitValue()).as(Files.readString(dir.resolve("follow2.log"))).isZero();
    agent.destroy();
    await(agent);

    Set<Long> recorded = new HashSet<>();
    for (String line : Files.readAllLines(commits)) recorded.add(Long.parseLong(line.strip()));
    for (String name : List.of("reader-ro.txt", "reader-rw.txt")) {
      List<String> lines = Files.readAllLines(dir.resolve(name));
      Set<Long> seen = new HashSet<>();
      double slowest = 0;
      int checks = 0;
      int errors = 0;
      for (String line : lines) {
        String[] f = line.split(" ");
        if (f[0].equals("error") && name.equals("reader-ro.txt")
            && line.endsWith(" attempt to write a readonly database")) {
          // SQLITE_READONLY_ROLLBACK: a read-only connection cannot play back the hot journal of a follower killed
          // mid-batch; it reads again once the follower (or any read-write connection) has. Only then.
          long at = (long) (Double.parseDouble(f[1]) * 1000);
          assertThat(at).as(name + ": a read-only rollback error outside the kill: " + line)
              .isBetween(killed - 50, restarted + 50);
          errors++;
          System.out.println(name + ": line " + lines.indexOf(line) + " of " + lines.size() + ": " + line);
          continue;
        }
        assertThat(f[0]).as(name + ": " + line).isIn("read", "check");
        if (f[0].equals("check")) {
          assertThat(f[1]).as(name).isEqualTo("ok");
          checks++;
          continue;
        }
        long n = Long.parseLong(f[1]);
        assertThat(n).as(name + ": a count the writer never committed").isIn(recorded);
        assertThat(Long.parseLong(f[2])).as(name + ": total written in the same commit").isEqualTo(n);
        seen.add(n);
        slowest = Math.max(slowest, Double.parseDouble(f[3]));
      }
      assertThat(seen.size()).as(name + ": distinct commits seen").isGreaterThan(10);
      assertThat(checks).isPositive();
      System.out.printf("%s: %d reads, %d distinct commits seen, %d quick_checks, %d read-only rollback errors,"
          + " slowest read %.1f ms%n", name, lines.size() - checks - errors, seen.size(), checks, errors, slowest);
    }
    assertThat(ReplicateCommandTest.sqlite(out, "PRAGMA integrity_check")).isEqualTo("ok");
    String digest = "SELECT count(*), sum(length(v)), (SELECT total FROM s) FROM t";
    assertThat(ReplicateCommandTest.sqlite(out, digest)).isEqualTo(ReplicateCommandTest.sqlite(primary, digest));
  }
}
