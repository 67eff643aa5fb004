package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The processes of a {@code strata restore -f} end-to-end test, all in one directory: {@code strata} commands
 * launched from the test class path, the python writer and readers (test resources under {@code /follow/}), and the
 * checks of what the readers saw. {@link #close()} kills whatever a failed test left running.
 */
final class FollowFixture implements AutoCloseable {
  /** How long a follower gets to reach the primary's state. */
  static final Duration CATCH_UP = Duration.ofSeconds(60);

  private final Path dir;
  private final List<Process> started = new ArrayList<>();

  FollowFixture(Path dir) {
    this.dir = dir;
  }

  /** Runs {@code strata ARGS…} in a new JVM, its stdout and stderr in {@code LOG} in the directory. */
  Process launch(String log, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-Dlogback.configurationFile=logback.xml", // the command's own, not a test jar's (WARN)
        "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main"));
    cmd.addAll(List.of(args));
    return started(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile())
        .start());
  }

  /** Runs the python script {@code SCRIPT} from the test resources, its output appended to {@code SCRIPT.log}. */
  Process python(String script, String... args) throws IOException {
    Path p = dir.resolve(script);
    if (!Files.exists(p)) {
      try (InputStream in = getClass().getResourceAsStream("/follow/" + script)) {
        Files.copy(in, p);
      }
    }
    List<String> cmd = new ArrayList<>(List.of("python3", p.toString()));
    cmd.addAll(List.of(args));
    return started(new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(script + ".log").toFile())).start());
  }

  private Process started(Process p) {
    started.add(p);
    return p;
  }

  /** Waits for {@code p} to exit 0. */
  static void await(Process p) throws Exception {
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("a process still running after 120 s: " + p.info()).isTrue();
    assertThat(p.exitValue()).as("exit code of " + p.info()).isZero();
  }

  /** The primary: a table {@code t} of rows, and {@code s.total}, their count, updated in the same commit. */
  void createPrimary(Path primary, Path commits) throws Exception {
    ReplicateCommandTest.sqlite(primary, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
        + " CREATE TABLE s(total INTEGER); INSERT INTO s VALUES (0);");
    Files.writeString(commits, "0\n");
  }

  /** Starts a python writer of {@code n} commits on the primary, each one's row count appended to {@code commits}. */
  Process writer(Path primary, int n, Path commits, String... extra) throws IOException {
    List<String> args = new ArrayList<>(List.of(primary.toString(), String.valueOf(n), commits.toString()));
    args.addAll(List.of(extra));
    return python("writer.py", args.toArray(String[]::new));
  }

  /**
   * Starts a read-only and a read-write reader on the follower's output, writing what they see to
   * {@code reader-ro.txt} and {@code reader-rw.txt}, until {@code stop} exists; {@link #checkReads} reads those.
   */
  List<Process> readers(Path out, Path stop) throws IOException {
    return List.of(python("reader.py", out.toString(), "ro", stop.toString(), dir.resolve("reader-ro.txt").toString()),
        python("reader.py", out.toString(), "rw", stop.toString(), dir.resolve("reader-rw.txt").toString()));
  }

  /** Waits until {@code file} exists (the follower's first restore wrote it); its log in the failure message. */
  void awaitOutput(Path file, String log) throws Exception {
    for (int i = 0; i < 300 && !Files.exists(file); i++) Thread.sleep(100);
    assertThat(file).as("the follower's output after 30 s; " + log + ":\n" + Files.readString(dir.resolve(log)))
        .exists();
  }

  /** Waits until {@code log} holds {@code text}, for at most 30 s. */
  void awaitLog(String log, String text) throws Exception {
    for (int i = 0; i < 300 && !Files.readString(dir.resolve(log)).contains(text); i++) Thread.sleep(100);
    assertThat(Files.readString(dir.resolve(log))).as(log + " after 30 s").contains(text);
  }

  /**
   * Once the writers are done, waits until the follower's output holds the primary's row count (for at most
   * {@link #CATCH_UP}; then the directory is copied aside for a look), and checks that both hold the same rows.
   */
  void awaitCaughtUp(Path primary, Path out, String log) throws Exception {
    String want = ReplicateCommandTest.sqlite(primary, "SELECT count(*) FROM t");
    String got = "";
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    while (!got.equals(want) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      if (Files.exists(out)) got = ReplicateCommandTest.sqlite(out, "SELECT count(*) FROM t");
    }
    if (!got.equals(want)) {
      Path keep = Path.of(System.getProperty("java.io.tmpdir"), "follow-failure-" + ProcessHandle.current().pid());
      new ProcessBuilder("cp", "-a", dir.toString(), keep.toString()).start().waitFor();
      fail("the follower holds %s rows after %d s, the primary %s (files kept in %s); %s:%n%s", got,
          CATCH_UP.toSeconds(), want, keep, log, Files.readString(dir.resolve(log)));
    }
    assertThat(digest(out)).as("the follower's rows against the primary's").isEqualTo(digest(primary));
  }

  /** Row count, bytes stored and the recorded total: equal when two copies hold the same commit. */
  static String digest(Path db) throws Exception {
    return ReplicateCommandTest.sqlite(db, "SELECT count(*), sum(length(v)), (SELECT total FROM s) FROM t");
  }

  /**
   * Checks what the readers saw: every read a whole commit of the writer's (a row count it recorded, and the total
   * written in the same commit), more than 10 distinct commits, and every quick_check ok. The read-only reader may
   * fail with SQLITE_READONLY_ROLLBACK only between the follower's kill and its restart, in milliseconds since
   * the epoch.
   */
  void checkReads(Path commits, long killed, long restarted) throws IOException {
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
      assertThat(checks).as(name + ": quick_checks").isPositive();
      System.out.printf("%s: %d reads, %d distinct commits seen, %d quick_checks, %d read-only rollback errors,"
          + " slowest read %.1f ms%n", name, lines.size() - checks - errors, seen.size(), checks, errors, slowest);
    }
  }

  /** Kills every process still running: a failed test must not leave a replicate or a follower behind. */
  @Override
  public void close() {
    for (Process p : started) p.destroyForcibly();
    for (Process p : started) {
      try {
        p.waitFor(10, TimeUnit.SECONDS); // before the directory is deleted
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
