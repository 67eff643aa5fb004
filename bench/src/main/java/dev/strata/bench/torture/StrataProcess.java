package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * A strata process the harness runs ({@link AgentProcess}, {@link ServerProcess}): started with its output appended
 * to a log, killed with SIGKILL, or stopped with SIGTERM.
 */
abstract class StrataProcess {
  /** A process just started, and where its output begins in the log. */
  record Launched(Process process, Path log, long logOffset) {}

  private final Process process;
  private final Path log;
  private final long logOffset;
  private final long startedAt = System.currentTimeMillis();

  StrataProcess(Launched launched) {
    this.process = launched.process();
    this.log = launched.log();
    this.logOffset = launched.logOffset();
  }

  /** Starts {@code cmd} in the launcher's directory, appending a start line (secrets elided) and its output to log. */
  static Launched launch(StrataLauncher strata, List<String> cmd, Path log) throws IOException {
    Files.writeString(log, "\n=== " + Instant.now() + " start: " + String.join(" ", cmd).replaceAll(
        "(secret-access-key=)[^&\\s]*", "$1…") + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.directory(strata.directory().toFile());
    long offset = Files.size(log);
    return new Launched(pb.start(), log, offset);
  }

  /** What this process has logged so far. */
  String output() throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(log, StandardOpenOption.READ)) {
      ch.position(logOffset);
      return new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The operating system's process ID (with the same-classpath launcher, the JVM's). */
  long pid() {
    return process.pid();
  }

  /** When it was started, milliseconds since the epoch. */
  long startedAt() {
    return startedAt;
  }

  /** False once it has exited, for whatever reason. */
  boolean alive() {
    return process.isAlive();
  }

  /** Its exit code; only valid once {@link #alive()} is false. */
  int exitCode() {
    return process.exitValue();
  }

  /** SIGKILL: no shutdown hook, no final sync; whatever it was writing stays half-written. */
  void kill9() throws InterruptedException {
    process.destroyForcibly(); // SIGKILL on Linux
    process.waitFor();
  }

  /** SIGTERM; the exit code, or empty when it did not exit within {@code timeout} (it is then killed). */
  OptionalInt terminate(Duration timeout) throws InterruptedException {
    if (!process.isAlive()) return OptionalInt.of(process.exitValue());
    process.destroy(); // SIGTERM on Linux
    if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return OptionalInt.of(process.exitValue());
    kill9();
    return OptionalInt.empty();
  }

  /**
   * Writes the process's threads, virtual ones included (the server handles each request on one), to {@code out},
   * for a request that got no answer.
   */
  String threadDump(Path out) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    try {
      Files.deleteIfExists(out);
      Process p = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "Thread.dump_to_file",
          "-format=text", out.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      return p.waitFor(30, TimeUnit.SECONDS) && Files.exists(out) ? "threads in " + out : "no thread dump";
    } catch (IOException e) {
      return "no thread dump: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "no thread dump";
    }
  }
}
