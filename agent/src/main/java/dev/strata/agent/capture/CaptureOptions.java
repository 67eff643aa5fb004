package dev.strata.agent.capture;

import java.time.Clock;
import java.time.Duration;

/**
 * How capture treats one database.
 *
 * @param busyTimeout how long to wait for SQLite locks (the write lock of a checkpoint barrier is given up after
 *     this, and the checkpoint retried later)
 * @param minCheckpointPages run a PASSIVE checkpoint once the WAL holds this many frames. The default, 500, is below
 *     SQLite's default {@code wal_autocheckpoint} (1000) on purpose: while Strata holds its read transaction the
 *     application's own checkpoints cannot restart the WAL, and an application whose WAL stays past its threshold
 *     attempts a checkpoint on every commit (measured: commits 3x slower). Litestream's 1000 races them: with it
 *     {@code bin/bench-replicate} measured a throughput ratio of 0.84, against 1.02 at 500.
 * @param checkpointInterval run one after this long when something was captured since the last (Litestream: 1 min)
 * @param switchToWal switch a database in another journal mode to WAL instead of refusing it
 * @param backlogFloor the level-0 files kept for a lagging replica may outgrow the database file up to this many
 *     bytes before a snapshot replaces them (see {@code BacklogLimit})
 */
public record CaptureOptions(Duration busyTimeout, int minCheckpointPages, Duration checkpointInterval,
    boolean switchToWal, Clock clock, long backlogFloor) {

  /** The default number of WAL frames that triggers a checkpoint. */
  public static final int DEFAULT_CHECKPOINT_PAGES = 500;

  /** The default backlog floor: 64 MiB. */
  public static final long DEFAULT_BACKLOG_FLOOR = 64L << 20;

  /**
   * 1 s busy timeout, 500 pages, 1 minute (Litestream's interval; see above for the page count), a 64 MiB backlog
   * floor.
   */
  public static CaptureOptions defaults() {
    return new CaptureOptions(Duration.ofSeconds(1), DEFAULT_CHECKPOINT_PAGES, Duration.ofMinutes(1), false,
        Clock.systemUTC(), DEFAULT_BACKLOG_FLOOR);
  }

  /** The same options with another checkpoint threshold. */
  public CaptureOptions withMinCheckpointPages(int pages) {
    return new CaptureOptions(busyTimeout, pages, checkpointInterval, switchToWal, clock, backlogFloor);
  }

  /** The same options with another checkpoint interval. */
  public CaptureOptions withCheckpointInterval(Duration interval) {
    return new CaptureOptions(busyTimeout, minCheckpointPages, interval, switchToWal, clock, backlogFloor);
  }

  /** The same options, switching databases to WAL mode when needed. */
  public CaptureOptions withSwitchToWal(boolean on) {
    return new CaptureOptions(busyTimeout, minCheckpointPages, checkpointInterval, on, clock, backlogFloor);
  }

  /** The same options with another backlog floor. */
  public CaptureOptions withBacklogFloor(long bytes) {
    return new CaptureOptions(busyTimeout, minCheckpointPages, checkpointInterval, switchToWal, clock, bytes);
  }
}
