package dev.strata.replica.level;

import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;

/**
 * The agent's scheduler for one replica root: runs the {@link LevelCompactor} steps at wall-clock multiples of each
 * level's interval (compaction of level n, then retention of level n−1; at the snapshot interval a snapshot, then
 * retention of the top level and of the snapshots). The backup server has its own scheduler over the same steps.
 *
 * <p>Sends no request while nothing is due. After a failure the next run is delayed (10 s, doubling up to 5 min);
 * after a failed snapshot (which reads the whole database) by an hour at most.
 */
public final class LevelSchedule {
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
  private static final Duration SNAPSHOT_RETRY = Duration.ofHours(1);

  private final LevelCompactor compactor;
  private final LevelConfig config;
  private final InstantSource clock;
  private final int top;
  private final Instant[] next = new Instant[Level.SNAPSHOT + 1]; // when each level's step is due next
  private boolean caughtUp; // the starvation check after a (re)listing is done
  private Duration backoff = Duration.ZERO;
  private Instant retryAt = Instant.MIN;
  private volatile Instant nextDue;

  /** A schedule staging compaction outputs in the system temporary directory. */
  public LevelSchedule(ReplicaClient client, LevelConfig config, InstantSource clock) {
    this(new LevelCompactor(client, config, clock), clock);
  }

  /** A schedule staging compaction outputs in {@code tempDir}. */
  public LevelSchedule(ReplicaClient client, LevelConfig config, InstantSource clock, Path tempDir) {
    this(new LevelCompactor(client, config, clock, tempDir), clock);
  }

  /** A schedule for {@code compactor}. */
  public LevelSchedule(LevelCompactor compactor, InstantSource clock) {
    LevelCompactor.deleteStaleTemporaries(compactor.tempDir());
    this.compactor = compactor;
    this.config = compactor.config();
    this.clock = clock;
    this.top = config.topLevel();
    Instant now = clock.instant();
    for (int n = 1; n <= top; n++) next[n] = boundaryAfter(now, config.level(n).interval());
    next[Level.SNAPSHOT] = boundaryAfter(now, config.snapshotInterval());
    nextDue = computeNextDue();
  }

  /** The compactor this schedule runs. */
  public LevelCompactor compactor() {
    return compactor;
  }

  /** Records a file the writer has just stored; see {@link LevelCompactor#noteWritten}. */
  public void noteWritten(LtxFileMeta file) {
    compactor.noteWritten(file);
  }

  /** When {@link #runDue()} next has something to do (at the earliest). */
  public Instant nextDue() {
    return nextDue;
  }

  /**
   * Runs every step due now, lowest level first, so that a snapshot taken at midnight holds everything compacted at
   * midnight. Sends no request when nothing is due or nothing changed.
   */
  public synchronized void runDue() throws IOException {
    Instant now = clock.instant();
    if (now.isBefore(retryAt)) return;
    try {
      if (!compactor.loaded() || !caughtUp) catchUp(now);
      for (int n = 1; n <= top; n++) {
        if (now.isBefore(next[n])) continue;
        compactor.compact(n);
        compactor.retain(n - 1);
        next[n] = boundaryAfter(now, config.level(n).interval());
      }
      if (!now.isBefore(next[Level.SNAPSHOT])) {
        try {
          compactor.snapshot();
        } catch (IOException | RuntimeException e) {
          Instant retry = now.plus(SNAPSHOT_RETRY);
          Instant boundary = boundaryAfter(now, config.snapshotInterval());
          next[Level.SNAPSHOT] = retry.isBefore(boundary) ? retry : boundary;
          throw e;
        }
        compactor.retain(top);
        compactor.retain(Level.SNAPSHOT);
        next[Level.SNAPSHOT] = boundaryAfter(now, config.snapshotInterval());
      }
      backoff = Duration.ZERO;
    } catch (IOException | RuntimeException e) {
      caughtUp = false;
      backoff = backoff.isZero() ? Duration.ofSeconds(10) : min(backoff.multipliedBy(2), MAX_BACKOFF);
      retryAt = now.plus(backoff);
      throw e;
    } finally {
      nextDue = computeNextDue();
    }
  }

  /**
   * After a (re)listing: a level whose last compaction happened before the last boundary, with work waiting, is
   * due now, so that a process that restarts more often than an interval does not starve the level.
   */
  private void catchUp(Instant now) throws IOException {
    for (int n = 1; n <= top; n++) {
      if (compactor.pending(n) && compactor.lastWritten(n).isBefore(floor(now, config.level(n).interval()))) {
        next[n] = now;
      }
    }
    if (compactor.snapshotPending()
        && compactor.lastWritten(Level.SNAPSHOT).isBefore(floor(now, config.snapshotInterval()))) {
      next[Level.SNAPSHOT] = now;
    }
    caughtUp = true;
  }

  private Instant computeNextDue() {
    Instant due = next[Level.SNAPSHOT];
    for (int n = 1; n <= top; n++) {
      if (next[n].isBefore(due)) due = next[n];
    }
    return due.isBefore(retryAt) ? retryAt : due;
  }

  /** The first wall-clock multiple of {@code interval} after {@code now} (UTC, like Go's Time.Truncate). */
  public static Instant boundaryAfter(Instant now, Duration interval) {
    return floor(now, interval).plus(interval);
  }

  private static Instant floor(Instant now, Duration interval) {
    long step = interval.toMillis();
    return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), step) * step);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** What the compactor knows the replica holds, by level (for tests and status). */
  Map<Integer, List<LtxFileMeta>> known() {
    return compactor.known();
  }
}
