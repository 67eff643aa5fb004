package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One {@code strata replicate} process: started, killed with SIGKILL, or stopped with SIGTERM. */
final class AgentProcess {
  /** The line strata replicate logs once it captures and uploads (after its start-up snapshot, if any). */
  static final String READY = "replicating to";

  private final Process process;
  private final Path log;
  private final long logOffset;
  private final long startedAt = System.currentTimeMillis();

  private AgentProcess(Process process, Path log, long logOffset) {
    this.process = process;
    this.log = log;
    this.logOffset = logOffset;
  }

  /** Starts {@code strata replicate …}, appending its output to {@code log}. */
  static AgentProcess start(StrataLauncher strata, List<String> args, Path log) throws IOException {
    List<String> cmd = strata.command(args);
    Files.writeString(log, "\n=== " + Instant.now() + " start: " + String.join(" ", cmd) + "\n",
        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.directory(strata.directory().toFile());
    long offset = Files.size(log);
    return new AgentProcess(pb.start(), log, offset);
  }

  /** What this process has logged so far. */
  String output() throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(log, StandardOpenOption.READ)) {
      ch.position(logOffset);
      return new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Waits until the agent says it replicates ({@link #READY}); false when it exited first or {@code timeout}
   * passed.
   */
  boolean awaitReady(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      if (output().contains(READY)) return true;
      if (!process.isAlive()) return false;
      Thread.sleep(50);
    }
    return false;
  }

  /** The operating system's process ID. */
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

  /** SIGKILL: no shutdown hook, no final sync, files half-written wherever it was. */
  void kill9() throws InterruptedException {
    process.destroyForcibly(); // SIGKILL on Linux
    process.waitFor();
  }

  /**
   * SIGTERM, then waits for the final sync; returns the exit code, or empty when it did not exit within
   * {@code timeout} (it is then killed).
   */
  java.util.OptionalInt terminate(Duration timeout) throws InterruptedException {
    if (!process.isAlive()) return java.util.OptionalInt.of(process.exitValue());
    process.destroy(); // SIGTERM on Linux
    if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return java.util.OptionalInt.of(process.exitValue());
    }
    kill9();
    return java.util.OptionalInt.empty();
  }
}
