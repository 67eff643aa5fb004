package dev.strata.agent.capture;

/** Counters of one database's capture, read by metrics; written only by the capture thread. */
public final class CaptureStats {
  volatile long txid;
  volatile long walBytes;
  volatile long passes;
  volatile long commits;
  volatile long bytesWritten;
  volatile long checkpoints;
  volatile long snapshots;
  volatile long errors;
  volatile long lastCaptureMillis;
  volatile long writeLockNanos;
  volatile long writeLockMaxNanos;
  volatile long walFramesMax;

  void recordPass(long newTxid, int commitCount, long fileBytes) {
    txid = newTxid;
    passes++;
    commits += commitCount;
    bytesWritten += fileBytes;
    lastCaptureMillis = System.currentTimeMillis();
  }

  void recordCheckpoint(long lockNanos) {
    checkpoints++;
    writeLockNanos += lockNanos;
    if (lockNanos > writeLockMaxNanos) writeLockMaxNanos = lockNanos;
  }

  void recordWalFrames(long frames) {
    if (frames > walFramesMax) walFramesMax = frames;
  }

  /**
   * The most frames the WAL held before a restart, since start: above the application's autocheckpoint size
   * (1000 by default) the application attempts a checkpoint after every commit.
   */
  public long walFramesMax() {
    return walFramesMax;
  }

  /** Total time checkpoints held SQLite's write lock, in seconds. */
  public double writeLockSeconds() {
    return writeLockNanos / 1e9;
  }

  /** The longest a checkpoint held SQLite's write lock, in seconds. */
  public double writeLockMaxSeconds() {
    return writeLockMaxNanos / 1e9;
  }

  /** Counts a failed pass. */
  public void recordError() {
    errors++;
  }

  /** The last TXID captured locally. */
  public long txid() {
    return txid;
  }

  /** Size of the WAL file at the last pass. */
  public long walBytes() {
    return walBytes;
  }

  /** Level-0 files written. */
  public long passes() {
    return passes;
  }

  /** SQLite commits captured. */
  public long commits() {
    return commits;
  }

  /** Bytes of LTX files written locally. */
  public long bytesWritten() {
    return bytesWritten;
  }

  /** Checkpoints run. */
  public long checkpoints() {
    return checkpoints;
  }

  /** Snapshots written. */
  public long snapshots() {
    return snapshots;
  }

  /** Passes that failed. */
  public long errors() {
    return errors;
  }
}
