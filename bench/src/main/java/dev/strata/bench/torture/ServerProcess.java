package dev.strata.bench.torture;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
 * One {@code strata serve} process on a fixed loopback port (kept across restarts, as LiteFS keeps its endpoint):
 * started, killed with SIGKILL, or stopped with SIGTERM. It is ready when {@code GET /pos} answers 200.
 */
final class ServerProcess {
  private final Process process;
  private final long startedAt = System.currentTimeMillis();

  private ServerProcess(Process process) {
    this.process = process;
  }

  /** A free loopback port for the server to keep. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Starts {@code strata serve --data DIR --bind 127.0.0.1:PORT --replica URL}, appending its output to log. */
  static ServerProcess start(StrataLauncher strata, Path dataDir, int port, String replicaUrl, Path log)
      throws IOException {
    return start(strata, dataDir, port, replicaUrl, null, log);
  }

  /** The same with {@code --metadata URL} when {@code metadataUrl} is not null (PostgreSQL shared by instances). */
  static ServerProcess start(StrataLauncher strata, Path dataDir, int port, String replicaUrl, String metadataUrl,
      Path log) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(strata.command("serve", "--data", dataDir.toString(), "--bind",
        "127.0.0.1:" + port, "--replica", replicaUrl));
    if (metadataUrl != null) cmd.addAll(List.of("--metadata", metadataUrl));
    Files.writeString(log, "\n=== " + Instant.now() + " start: " + String.join(" ", cmd).replaceAll(
        "(secret-access-key=)[^&\\s]*", "$1…") + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.directory(strata.directory().toFile());
    return new ServerProcess(pb.start());
  }

  /** Waits until {@code GET /pos} answers 200; false when the process exited first or {@code timeout} passed. */
  boolean awaitReady(BackupApi api, Duration timeout) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) return false;
      try {
        api.positions();
        return true;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    return false;
  }

  /** The process id (with the same-classpath launcher, the JVM's: the one in the leases table's owner names). */
  long pid() {
    return process.pid();
  }

  long startedAt() {
    return startedAt;
  }

  boolean alive() {
    return process.isAlive();
  }

  int exitCode() {
    return process.exitValue();
  }

  /**
   * Writes the server's threads, virtual ones included (it handles each request on one), to {@code out}, for a
   * request that got no answer.
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

  /** SIGKILL: no shutdown hook; whatever it was writing stays half-written. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM; the exit code, or empty when it did not exit within {@code timeout} (it is then killed). */
  OptionalInt terminate(Duration timeout) throws InterruptedException {
    if (!process.isAlive()) return OptionalInt.of(process.exitValue());
    process.destroy();
    if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return OptionalInt.of(process.exitValue());
    kill9();
    return OptionalInt.empty();
  }
}
