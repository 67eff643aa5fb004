package dev.strata.server.compaction;

import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.level.LevelSchedule;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.Rows.CompactionRequest;
import dev.strata.server.store.Rows;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's scheduler over {@link CompactionJobs} (the agent has its own, {@link LevelSchedule}): the jobs that
 * uploads and lower levels requested (spec §4.1), one loop per level waking at wall-clock multiples of the level's
 * interval (snapshots at UTC midnight), working through that level's pending requests, several databases at a
 * time, their starts spread over four fifths of the interval (five minutes at most); level 1's go by batches. A
 * request is removed only when its job succeeded and nobody renewed it meanwhile; failures are logged and retried on
 * the next tick. One more loop sweeps the storage of deleted databases every hour.
 *
 * <p>Why spread: every database's level-1 request falls due at the same boundary. Started all at once, a thousand
 * flushes take the cores, the disk and the metadata database for a second or two, and the uploads that arrive
 * meanwhile wait behind them: that burst was the tail of the upload latency in {@code bin/bench-server --litefs}.
 * Spread, the same work is an even load. The order is shuffled at every tick, so a database's level-1 file covers
 * between a fifth of an interval and nearly two, one interval on average.
 */
public final class CompactionScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CompactionScheduler.class);

  private final MetadataStore store;
  private final CompactionJobs jobs;
  private final LevelConfig levels;
  private final InstantSource clock;
  private final Semaphore slots;
  private final List<Thread> loops = new ArrayList<>();
  private volatile boolean closed;
  /**
   * The longest a tick spreads its jobs over (levels with long intervals, snapshots). A thousand databases' level-2
   * compactions within one minute were a burst of 17 a second every five minutes, during which uploads waited
   * (p99 of seconds in `bin/bench-server --litefs` whenever its measurement met one); over four minutes they are 4 a
   * second. A level-n file then comes up to five minutes after its boundary: until then restores read level n−1.
   */
  static final Duration MAX_SPREAD = Duration.ofMinutes(5);

  public CompactionScheduler(MetadataStore store, CompactionJobs jobs, LevelConfig levels, InstantSource clock,
      int concurrency) {
    this.store = store;
    this.jobs = jobs;
    this.levels = levels;
    this.clock = clock;
    this.slots = new Semaphore(concurrency);
  }

  /** Starts one loop per level with an interval, the snapshot loop, and the hourly pass over deleted databases. */
  public void start() {
    for (int level = 1; level <= levels.topLevel(); level++) startLoop(level);
    startLoop(Level.SNAPSHOT);
    // As often as objects come of age to be swept.
    startLoop("deleted", CompactionJobs.ORPHAN_AGE, this::sweepDeletedDatabases);
  }

  private void startLoop(int level) {
    Duration interval = levels.level(level).interval();
    Duration spread = interval.multipliedBy(4).dividedBy(5);
    startLoop("L" + level, interval, () -> runLevel(level, spread.compareTo(MAX_SPREAD) < 0 ? spread : MAX_SPREAD));
  }

  private void startLoop(String name, Duration interval, Runnable tick) {
    loops.add(Thread.ofVirtual().name("strata-compaction-" + name).start(() -> {
      while (!closed) {
        Instant now = clock.instant();
        try {
          Thread.sleep(Math.max(1, Duration.between(now, LevelSchedule.boundaryAfter(now, interval)).toMillis()));
        } catch (InterruptedException e) {
          return;
        }
        if (closed) return;
        tick.run();
      }
    }));
  }

  /** Sweeps the storage of deleted databases ({@link CompactionJobs#sweepDeletedDatabases}); failures are logged. */
  public void sweepDeletedDatabases() {
    try {
      jobs.sweepDeletedDatabases();
    } catch (IOException | RuntimeException e) {
      log.error("storage of deleted databases: {}", e.getMessage());
    }
  }

  /** Processes every pending request of {@code level} once, at once; returns how many succeeded. */
  public int runLevel(int level) {
    return runLevel(level, Duration.ZERO);
  }

  /**
   * Processes every pending request of {@code level} once, the jobs' starts spaced evenly over {@code spread};
   * returns how many succeeded. Closing stops the spacing: the jobs not yet started wait for the next run.
   */
  int runLevel(int level, Duration spread) {
    List<CompactionRequest> requests;
    try {
      if (level == Level.SNAPSHOT) {
        store.write(c -> {
          Rows.requestForEveryDatabase(c, Level.SNAPSHOT);
          return null;
        });
      }
      requests = new ArrayList<>(store.read(c -> Rows.compactionRequests(c, level)));
      // Instances sharing PostgreSQL each start at a different database, so that they rarely meet at one lease.
      Collections.shuffle(requests);
    } catch (IOException | RuntimeException e) {
      // PostgreSQL unreachable is an ApiException (503): the loop must live on to the next tick.
      log.error("compaction L{}: reading requests: {}", level, e.getMessage());
      return 0;
    }
    // Level-1 flushes go by batches (CompactionJobs#flush), every other job alone.
    int size = level == 1 ? CompactionJobs.FLUSH_BATCH : 1;
    List<List<CompactionRequest>> batches = new ArrayList<>();
    for (int i = 0; i < requests.size(); i += size) {
      batches.add(requests.subList(i, Math.min(i + size, requests.size())));
    }
    List<Thread> workers = new ArrayList<>();
    int[] ok = new int[1];
    long start = System.nanoTime(), step = batches.isEmpty() ? 0 : spread.toNanos() / batches.size();
    for (int i = 0; i < batches.size(); i++) {
      List<CompactionRequest> batch = batches.get(i);
      if (closed || !waitUntil(start + i * step)) break;
      slots.acquireUninterruptibly();
      workers.add(Thread.ofVirtual().start(() -> {
        try {
          int done = level == 1 ? flush(batch) : runOne(batch.getFirst()) ? 1 : 0;
          synchronized (ok) {
            ok[0] += done;
          }
        } finally {
          slots.release();
        }
      }));
    }
    // Work in flight finishes even during shutdown: its upload is then recorded before the store closes.
    boolean interrupted = false;
    for (Thread t : workers) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    return ok[0];
  }

  /** Sleeps until {@link System#nanoTime()} reaches {@code due}; false when interrupted (closing). */
  private static boolean waitUntil(long due) {
    long left = due - System.nanoTime();
    if (left <= 0) return true;
    try {
      Thread.sleep(Duration.ofNanos(left));
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private int flush(List<CompactionRequest> batch) {
    try {
      return jobs.flush(batch);
    } catch (IOException | RuntimeException e) {
      log.error("compaction L1 of {} database(s): {}", batch.size(), e.getMessage());
      return 0;
    }
  }

  private boolean runOne(CompactionRequest r) {
    String name = r.db().cluster() + "/" + r.db().name();
    try {
      if (!jobs.run(r)) return false;
      log.debug("compaction L{} {}: done", r.level(), name);
      return true;
    } catch (IOException | RuntimeException e) {
      log.error("compaction L{} {}: {}", r.level(), name, e.getMessage());
      return false;
    }
  }

  /** Stops the loops; compactions in flight finish first (up to a minute). */
  @Override
  public void close() {
    closed = true;
    for (Thread t : loops) t.interrupt();
    for (Thread t : loops) {
      try {
        t.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
