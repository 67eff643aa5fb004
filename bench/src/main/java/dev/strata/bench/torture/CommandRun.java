package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One finished run of an external command: exit code, what it printed, how long it took. Output goes to files
 * under the work directory (kept for post-mortems) rather than pipes, so a chatty command can never block.
 */
record CommandRun(List<String> command, int exit, String stdout, String stderr, long millis, boolean timedOut) {

  /** Runs {@code command} to completion or until {@code timeout} (then kills it: exit -1, timedOut). */
  static CommandRun run(List<String> command, Duration timeout, Path logPrefix) throws IOException {
    return run(command, timeout, logPrefix, null);
  }

  /** Like {@link #run(List, Duration, Path)}, in working directory {@code dir} (null: this one's). */
  static CommandRun run(List<String> command, Duration timeout, Path logPrefix, Path dir)
      throws IOException {
    Path out = logPrefix.resolveSibling(logPrefix.getFileName() + ".out");
    Path err = logPrefix.resolveSibling(logPrefix.getFileName() + ".err");
    Files.createDirectories(out.getParent());
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    if (dir != null) pb.directory(dir.toFile());
    long start = System.nanoTime();
    Process p = pb.start();
    boolean timedOut = false;
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        p.destroyForcibly();
        p.waitFor();
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + command.getFirst(), e);
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    return new CommandRun(List.copyOf(command), timedOut ? -1 : p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8), millis,
        timedOut);
  }

  /** The last non-blank line of stderr (or stdout), for reports. */
  String lastLine() {
    String text = stderr.isBlank() ? stdout : stderr;
    String[] lines = text.strip().split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1];
  }

  /** True when the output holds a Java stack trace: what a user must never see. */
  boolean hasStackTrace() {
    String all = stdout + "\n" + stderr;
    return all.contains("\n\tat ") || all.contains("Exception in thread") || all.matches("(?s).*\\bat [\\w.$]+\\(\\w+\\.java:\\d+\\).*");
  }
}
