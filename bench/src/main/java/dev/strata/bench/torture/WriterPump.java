package dev.strata.bench.torture;

import java.io.IOException;
import java.util.Random;

/**
 * Keeps the writer committing at a seeded, irregular pace on a background thread while the harness injects
 * faults; {@link #pause()} returns once no transaction is in flight, so the harness can act on a quiet database.
 */
final class WriterPump implements AutoCloseable {
  private final WriterProcess writer;
  private final Random rng;
  private final int maxGapMillis;
  private final Object turn = new Object(); // held while a batch of commits is in flight
  private volatile boolean paused = true;
  private volatile boolean stopped;
  private volatile IOException failure;
  private final Thread thread;

  WriterPump(WriterProcess writer, long seed, int maxGapMillis) {
    this.writer = writer;
    this.rng = new Random(seed);
    this.maxGapMillis = maxGapMillis;
    this.thread = Thread.ofPlatform().daemon().name("writer-pump").unstarted(this::loop);
    thread.start();
  }

  private void loop() {
    while (!stopped) {
      try {
        Thread.sleep(rng.nextInt(maxGapMillis + 1));
        synchronized (turn) {
          if (paused || stopped) continue;
          // Mostly single commits; sometimes a burst, so that one sync pass captures many TXIDs.
          writer.commit(rng.nextInt(10) == 0 ? 2 + rng.nextInt(20) : 1);
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        failure = e;
        return;
      }
    }
  }

  /** Stops committing; returns when no commit is in flight. Throws if the writer failed meanwhile. */
  void pause() throws IOException {
    paused = true;
    synchronized (turn) {
      checkFailure();
    }
  }

  /** Commits again. */
  void resume() throws IOException {
    checkFailure();
    paused = false;
  }

  /** Throws the writer's failure, if any (a failing writer is a finding, e.g. a corrupted live database). */
  void checkFailure() throws IOException {
    IOException f = failure;
    if (f != null) throw f;
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
