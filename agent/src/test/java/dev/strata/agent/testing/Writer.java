package dev.strata.agent.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/** A python3 process writing rows into a database (see {@code writer.py}). */
public final class Writer implements AutoCloseable {
  private final Process process;

  private Writer(Process process) {
    this.process = process;
  }

  /** Starts writing {@code count} rows, one transaction each, sleeping {@code delaySeconds} between them. */
  public static Writer start(Path db, int count, double delaySeconds) throws IOException {
    return start(db, count, delaySeconds, 1000);
  }

  /** Like {@link #start(Path, int, double)} with the writer's own autocheckpoint threshold (0 = off). */
  public static Writer start(Path db, int count, double delaySeconds, int autocheckpoint) throws IOException {
    Path script = db.resolveSibling("writer.py");
    if (!Files.exists(script)) {
      try (InputStream in = Writer.class.getResourceAsStream("/dev/strata/agent/writer.py")) {
        Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Process p = new ProcessBuilder("python3", script.toString(), db.toString(), Integer.toString(count),
        Double.toString(delaySeconds), "100", Integer.toString(autocheckpoint)).redirectErrorStream(true).start();
    return new Writer(p);
  }

  /** Waits for the writer to finish; fails when it did not succeed. */
  public void await() throws IOException, InterruptedException {
    String out = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("writer failed: " + out);
    }
  }

  /** True once the writer's process has exited. */
  public boolean done() {
    return !process.isAlive();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
