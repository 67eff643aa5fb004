package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** One {@code strata replicate} process. */
final class AgentProcess extends StrataProcess {
  /** The line strata replicate logs once it captures and uploads (after its start-up snapshot, if any). */
  static final String READY = "replicating to";

  private AgentProcess(Launched launched) {
    super(launched);
  }

  /** Starts {@code strata replicate …}, appending its output to {@code log}. */
  static AgentProcess start(StrataLauncher strata, List<String> args, Path log) throws IOException {
    return new AgentProcess(launch(strata, strata.command(args), log));
  }

  /**
   * Waits until the agent says it replicates ({@link #READY}); false when it exited first or {@code timeout}
   * passed.
   */
  boolean awaitReady(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      if (output().contains(READY)) return true;
      if (!alive()) return false;
      Thread.sleep(50);
    }
    return false;
  }
}
