package dev.strata.agent.upload;

import dev.strata.agent.capture.LocalFile;
import dev.strata.agent.capture.LocalStore;
import dev.strata.agent.capture.WalCapture;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains a database's {@link LocalStore} into one replica, in TXID order, on its own thread: a replica that fails
 * retries with backoff and stops nothing else.
 *
 * <p>The replica's position (last TXID and checksum) is listed once when the uploader starts and kept in memory
 * after that, so an idle database costs no request. A level-0 file is uploaded only when it continues the
 * position (MinTXID = position + 1, PreApplyChecksum = position's checksum); a snapshot always may be. When the
 * next file does not continue the replica (it is behind what the store still holds, or ahead of local state, or
 * holds a different history), the uploader asks capture for a snapshot, which bridges the gap.
 */
public final class ReplicaUploader implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ReplicaUploader.class);
  private static final Duration UPKEEP_TICK = Duration.ofSeconds(5);
  private static final Duration ERROR_LOG_INTERVAL = Duration.ofSeconds(30);

  private final String name;
  private final ReplicaClient client;
  private final WalCapture capture;
  private final LocalStore store;
  private final ReplicaProgress progress;
  private final ReplicaUpkeep upkeep;
  private final Backoff backoff;
  private final ReplicaStats stats = new ReplicaStats();
  private volatile Pos position; // null until listed
  private volatile long stopDeadline; // 0 while running; System.nanoTime() deadline once stopping
  private long requestedAt = -1; // position.txid when a snapshot was asked for
  private long failingSince;
  private long lastErrorLog;

  /**
   * @param name the replica's name in logs and metrics
   * @param position the replica's position if already listed, else null
   */
  public ReplicaUploader(String name, ReplicaClient client, WalCapture capture, ReplicaProgress progress,
      ReplicaUpkeep upkeep, Backoff backoff, Pos position) {
    this.name = name;
    this.client = client;
    this.capture = capture;
    this.store = capture.store();
    this.progress = progress;
    this.upkeep = upkeep;
    this.backoff = backoff;
    this.position = position;
    if (position != null) {
      stats.txid = position.txid();
      progress.update(this, position.txid());
    }
  }

  /** The replica's name. */
  public String name() {
    return name;
  }

  /** The replica's client. */
  public ReplicaClient client() {
    return client;
  }

  /** Counters for metrics. */
  public ReplicaStats stats() {
    return stats;
  }

  /** The last TXID known to be on the replica; -1 while unknown. */
  public long txid() {
    Pos p = position;
    return p == null ? -1 : p.txid();
  }

  /**
   * The newest position stored on a replica: the file with the highest MaxTXID at any level, and the database
   * checksum after it (read from the file's trailer when the listing does not carry it).
   */
  public static Pos head(ReplicaClient client) throws IOException {
    dev.strata.replica.litestream.Litestream.refuseAsTarget(client); // never a silent mix of two layouts
    LtxFileMeta best = null;
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) {
      for (LtxFileMeta f : client.listFiles(level)) {
        if (best == null || Long.compareUnsigned(f.maxTxid(), best.maxTxid()) > 0
            || (f.maxTxid() == best.maxTxid() && f.postApplyChecksum() != 0 && best.postApplyChecksum() == 0)) {
          best = f;
        }
      }
    }
    if (best == null) return Pos.ZERO;
    long post = best.postApplyChecksum();
    if (post == 0 && best.size() >= LtxTrailer.SIZE) {
      try (InputStream in = client.openFile(best.level(), best.range(), best.size() - LtxTrailer.SIZE)) {
        post = LtxTrailer.decode(in.readNBytes(LtxTrailer.SIZE), 0).postApplyChecksum();
      }
    }
    return new Pos(best.maxTxid(), post);
  }

  /** Asks the uploader to finish: it exits once caught up, or when {@code timeout} has passed. */
  public void stop(Duration timeout) {
    stopDeadline = System.nanoTime() + Math.max(1, timeout.toNanos());
    store.wakeAll();
  }

  private boolean stopping() {
    return stopDeadline != 0;
  }

  private boolean pastDeadline() {
    return stopping() && System.nanoTime() - stopDeadline >= 0;
  }

  /** True when the replica holds everything the store has. */
  public boolean caughtUp() {
    Pos p = position;
    return p != null && store.after(p.txid()).isEmpty() && Long.compareUnsigned(p.txid(), capture.txid()) >= 0;
  }

  @Override
  public void run() {
    long seen = -1;
    while (!pastDeadline()) {
      long version = store.version();
      try {
        if (position == null) {
          position = head(client);
          stats.txid = position.txid();
          progress.update(this, position.txid());
        }
        if (upload()) upkeep.runDue();
        if (failingSince != 0) {
          log.info("{}: replica {} is reachable again", capture.name(), name);
          failingSince = 0;
        }
        backoff.reset();
      } catch (IOException | RuntimeException e) {
        failed(e);
        if (sleep(backoff.next())) continue;
        break;
      }
      if (stopping() && caughtUp()) break;
      try {
        seen = store.awaitChange(version, UPKEEP_TICK.toMillis(), TimeUnit.MILLISECONDS);
        if (seen == version && !stopping()) upkeep.runDue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (IOException | RuntimeException e) {
        failed(e);
      }
    }
  }

  /** Uploads every file that continues the replica; true when at least one was uploaded. */
  private boolean upload() throws IOException {
    boolean any = false;
    while (!pastDeadline()) {
      Pos p = position;
      // Read before the store: a TXID the capture reports has its file published already (both under its lock).
      long local = capture.txid();
      if (Long.compareUnsigned(p.txid(), local) > 0) {
        askForSnapshot(p, "replica " + name + " is ahead of the local state (TXID " + Txid.format(p.txid()) + " > "
            + Txid.format(local) + ")");
        return any;
      }
      List<LocalFile> next = store.after(p.txid());
      if (next.isEmpty()) {
        // Behind the database with nothing local to send (a new replica, the files it lacks long uploaded
        // elsewhere): only a snapshot brings it up, and an idle database would never make one on its own.
        if (Long.compareUnsigned(p.txid(), local) < 0) {
          askForSnapshot(p, "replica " + name + " is at TXID " + Txid.format(p.txid()) + ", the database at "
              + Txid.format(local) + ", and no local file continues it");
        }
        return any;
      }
      LocalFile f = choose(p, next);
      if (f == null) {
        LocalFile first = next.getFirst();
        askForSnapshot(p, "replica " + name + " is at TXID " + Txid.format(p.txid()) + " ("
            + Checksum.format(p.postApplyChecksum()) + ") and the next local file " + first + " does not continue it");
        return any;
      }
      LtxFileMeta written;
      try (InputStream in = Files.newInputStream(f.path())) {
        written = client.writeFile(f.level(), f.info(), in, f.size());
      } catch (NoSuchFileException e) {
        if (store.files().contains(f)) throw e;
        continue; // dropped meanwhile for a newer snapshot (BacklogLimit): list again
      }
      position = new Pos(f.maxTxid(), f.postApplyChecksum());
      stats.txid = f.maxTxid();
      stats.files++;
      stats.bytes += f.size();
      stats.lastSuccessMillis = System.currentTimeMillis();
      upkeep.noteWritten(written);
      progress.update(this, f.maxTxid());
      any = true;
    }
    return any;
  }

  /** The file to upload next, or null when none continues the replica. */
  private static LocalFile choose(Pos p, List<LocalFile> next) {
    LocalFile first = next.getFirst();
    if (first.level() != 0) return first; // a snapshot continues anything
    boolean continues = first.minTxid() == p.txid() + 1
        && (p.postApplyChecksum() == 0 || first.preApplyChecksum() == p.postApplyChecksum());
    if (continues) return first;
    for (LocalFile f : next) if (f.level() != 0) return f; // a later snapshot bridges the gap
    return null;
  }

  private void askForSnapshot(Pos p, String reason) {
    if (requestedAt == p.txid()) return;
    requestedAt = p.txid();
    log.info("{}: {}; requesting a snapshot", capture.name(), reason);
    capture.requestSnapshot(p.txid(), reason);
  }

  private void failed(Exception e) {
    String message = (e.getMessage() != null ? e.getMessage() : e.toString()).replace('\n', ' ');
    stats.errors++;
    long now = System.currentTimeMillis();
    stats.lastError = message; // for strata status
    stats.lastErrorMillis = now;
    if (failingSince == 0) failingSince = now;
    if (now - lastErrorLog >= ERROR_LOG_INTERVAL.toMillis()) {
      lastErrorLog = now;
      log.warn("{}: replica {} failed ({}s): {}", capture.name(), name, (now - failingSince) / 1000, message);
    }
  }

  /** Sleeps, waking early to stop; false when the thread should exit. */
  private boolean sleep(Duration d) {
    long until = System.nanoTime() + d.toNanos();
    try {
      while (!pastDeadline()) {
        long left = until - System.nanoTime();
        if (left <= 0) return true;
        long v = store.version();
        store.awaitChange(v, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
