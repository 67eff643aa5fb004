package dev.strata.agent;

import dev.strata.agent.capture.ReplicaHead;
import dev.strata.agent.capture.WalCapture;
import dev.strata.agent.upload.Backoff;
import dev.strata.agent.upload.BacklogLimit;
import dev.strata.agent.upload.ReplicaProgress;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.agent.upload.ReplicaUploader;
import dev.strata.ltx.Pos;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import dev.strata.replica.age.AgeReplicaClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates one database: a capture thread runs a {@link WalCapture} pass every sync interval (and checkpoints
 * when due), and one {@link ReplicaUploader} per replica drains the local store. Stopping runs a final pass and
 * gives the replicas up to the shutdown timeout to take the last files.
 */
public final class DatabaseMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DatabaseMonitor.class);
  private static final Duration ERROR_LOG_INTERVAL = Duration.ofSeconds(30);
  /** How often capture follows a database that is being written, between two sync passes. */
  private static final Duration FOLLOW = Duration.ofMillis(2);

  private final DatabaseSpec spec;
  private final List<ReplicaClient> clients;
  private final ReplicaUpkeep.Factory upkeep;
  private final WalCapture capture;
  private final List<ReplicaUploader> uploaders = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final CountDownLatch stop = new CountDownLatch(1);
  /** Sync passes begun and completed; a pass begun after a caller asked covers every commit made before. */
  private final Object passes = new Object();
  private long passesBegun;
  private long passesDone;
  private long txidAfterPass; // capture's TXID after the last completed sync pass
  /** The database checksum after recent sync passes, by TXID: what a restore drill compares with. */
  private final java.util.LinkedHashMap<Long, Long> recentChecksums = new java.util.LinkedHashMap<>(64, 0.75f,
      false) {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<Long, Long> e) {
      return size() > 4096;
    }
  };
  private volatile boolean syncRequested;
  private final Object wake = new Object();
  private Thread captureThread;
  private final BacklogLimit backlog;
  private long lastErrorLog;

  private DatabaseMonitor(DatabaseSpec spec, List<ReplicaClient> clients, ReplicaUpkeep.Factory upkeep,
      WalCapture capture) {
    this.spec = spec;
    this.clients = clients;
    this.upkeep = upkeep;
    this.capture = capture;
    this.backlog = new BacklogLimit(capture, spec.capture().backlogFloor());
  }

  /**
   * Checks the replica URLs and the database and locks its meta directory; nothing is written to a replica and
   * nothing is captured until {@link #start}. Bad input is an {@link IllegalArgumentException}.
   */
  public static DatabaseMonitor open(DatabaseSpec spec, ReplicaUpkeep.Factory upkeep) throws IOException {
    if (spec.replicas().isEmpty()) throw new IllegalArgumentException(spec.path() + ": no replica given");
    List<ReplicaClient> clients = new ArrayList<>();
    try {
      for (ReplicaSpec r : spec.replicas()) clients.add(ReplicaUrl.open(r.url()));
    } catch (RuntimeException e) {
      for (ReplicaClient c : clients) closeQuietly(c);
      throw e;
    }
    return open(spec, clients, upkeep);
  }

  /** Like {@link #open(DatabaseSpec, ReplicaUpkeep.Factory)} with clients already open, one per replica spec. */
  public static DatabaseMonitor open(DatabaseSpec spec, List<ReplicaClient> clients, ReplicaUpkeep.Factory upkeep)
      throws IOException {
    if (clients.size() != spec.replicas().size()) throw new IllegalArgumentException("one client per replica");
    try {
      for (int i = 0; i < clients.size(); i++) {
        if (dev.strata.replica.age.AgeReplicaClient.unwrap(clients.get(i)) instanceof FileReplicaClient f) {
          spec.checkReplicaDirectory(spec.replicas().get(i), f.root());
        }
      }
      WalCapture capture = WalCapture.open(spec.name(), spec.path(), spec.meta(), spec.capture());
      return new DatabaseMonitor(spec, List.copyOf(clients), upkeep, capture);
    } catch (IOException | RuntimeException e) {
      for (ReplicaClient c : clients) closeQuietly(c);
      throw e;
    }
  }

  /** The database's capture. */
  public WalCapture capture() {
    return capture;
  }

  /** The uploaders, one per replica. */
  public List<ReplicaUploader> uploaders() {
    return uploaders;
  }

  /** The database. */
  public DatabaseSpec spec() {
    return spec;
  }

  /**
   * Finds where the replicas are, establishes the capture position (continuing, verifying or snapshotting), and
   * starts the capture and upload threads. Without local state every replica must answer first, so that no TXID
   * a replica already holds is written again; until then this retries with backoff.
   */
  public synchronized void start() throws IOException {
    Pos[] heads = new Pos[clients.size()];
    boolean needAll = capture.txid() == 0; // no local state
    Backoff backoff = new Backoff(Duration.ofSeconds(1), spec.retryMax());
    while (true) {
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < clients.size(); i++) {
        if (heads[i] != null) continue;
        try {
          heads[i] = ReplicaUploader.head(clients.get(i));
        } catch (IOException | RuntimeException e) {
          missing.add(spec.replicas().get(i).name() + " (" + e.getMessage() + ")");
        }
      }
      if (missing.isEmpty() || !needAll) {
        if (!missing.isEmpty()) log.warn("{}: replicas not reachable yet: {}", spec.name(), missing);
        break;
      }
      log.warn("{}: waiting for replicas before the first capture: {}", spec.name(), missing);
      try {
        if (stop.await(backoff.next().toMillis(), TimeUnit.MILLISECONDS)) return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    ReplicaHead head = ReplicaHead.EMPTY;
    for (Pos p : heads) if (p != null) head = head.max(new ReplicaHead(p.txid(), p.postApplyChecksum()));
    capture.start(head); // even when a stop is pending: its final pass and uploads then follow
    ReplicaProgress progress = new ReplicaProgress(capture.store(), clients.size());
    for (int i = 0; i < clients.size(); i++) {
      ReplicaClient c = clients.get(i);
      ReplicaSpec r = spec.replicas().get(i);
      // the integration point for compaction and retention: see ReplicaUpkeep
      ReplicaUpkeep u;
      if (c instanceof AgeReplicaClient a && a.encrypts() && !a.decrypts()) {
        // A write-only host: compacting would mean reading what it cannot decrypt.
        log.info("{}: replica {} is encrypted and no age identity is configured here: uploading level 0 only; "
            + "compaction and retention are left to a process holding the identity (strata compact)",
            spec.name(), r.name());
        u = ReplicaUpkeep.NONE;
      } else {
        u = upkeep.create(c, r.levels() != null ? r.levels() : spec.levels(), spec.capture().clock());
      }
      uploaders.add(new ReplicaUploader(r.name(), c, capture, progress, u,
          new Backoff(Duration.ofSeconds(1), spec.retryMax()), heads[i]));
    }
    for (ReplicaUploader u : uploaders) {
      threads.add(Thread.ofVirtual().name("strata-upload-" + spec.name() + "-" + u.name()).start(u));
    }
    captureThread = Thread.ofPlatform().name("strata-capture-" + spec.name()).daemon().start(this::loop);
    if (spec.verifyInterval() != null) {
      threads.add(Thread.ofVirtual().name("strata-drill-" + spec.name()).start(this::drills));
    }
  }

  /**
   * Every sync interval, a pass writes a level-0 file. In between, while the database is being written, capture
   * follows the WAL every few milliseconds (into staging, no file) and checkpoints it as soon as it reaches the
   * checkpoint threshold, so that the WAL restarts as often as it would without Strata: an application whose WAL
   * stays past its autocheckpoint threshold pays for a checkpoint attempt on every commit.
   */
  private void loop() {
    long interval = spec.syncInterval().toNanos();
    long follow = FOLLOW.toNanos();
    long nextSync = System.nanoTime();
    long wait = interval; // until the next capture: FOLLOW while commits arrive, doubling while none do
    try {
      while (true) {
        long now = System.nanoTime();
        boolean captured;
        if (now - nextSync >= 0 || syncRequested) {
          syncRequested = false;
          captured = syncPass();
          nextSync = now + interval;
        } else {
          captured = pass(false);
        }
        wait = captured ? follow : Math.min(interval, wait * 2);
        long untilSync = nextSync - System.nanoTime();
        synchronized (wake) { // requestSync and stop wake this wait
          if (!syncRequested && stop.getCount() > 0) {
            TimeUnit.NANOSECONDS.timedWait(wake, Math.max(1, Math.min(wait, untilSync)));
          }
        }
        if (stop.getCount() == 0) break;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    syncPass(); // final pass: capture what was committed before the stop
  }

  /** A sync pass, counted for {@link #awaitDurable}. */
  private boolean syncPass() {
    synchronized (passes) {
      passesBegun++;
    }
    boolean captured = pass(true);
    synchronized (passes) {
      passesDone++;
      txidAfterPass = capture.txid();
      recentChecksums.put(txidAfterPass, capture.postApplyChecksum());
      passes.notifyAll();
    }
    return captured;
  }

  /** The database checksum at {@code txid} if a recent sync pass ended there, else 0. */
  public long checksumAt(long txid) {
    synchronized (passes) {
      Long c = recentChecksums.get(txid);
      return c == null ? 0 : c;
    }
  }

  /** The last restore drill of each replica, by replica name. */
  private final java.util.Map<String, dev.strata.agent.drill.RestoreDrill.Result> lastDrills =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** The last successful drill of each replica, by replica name. */
  private final java.util.Map<String, dev.strata.agent.drill.RestoreDrill.Result> lastGoodDrills =
      new java.util.concurrent.ConcurrentHashMap<>();

  public java.util.Map<String, dev.strata.agent.drill.RestoreDrill.Result> lastDrills() {
    return lastDrills;
  }

  public java.util.Map<String, dev.strata.agent.drill.RestoreDrill.Result> lastGoodDrills() {
    return lastGoodDrills;
  }

  /** Every verify interval (the first after one interval), a drill of every replica, until the stop. */
  private void drills() {
    try {
      while (!stop.await(spec.verifyInterval().toMillis(), TimeUnit.MILLISECONDS)) {
        drill(dev.strata.replica.restore.IntegrityCheck.QUICK);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs a restore drill of every replica now (see {@link dev.strata.agent.drill.RestoreDrill}). */
  public List<dev.strata.agent.drill.RestoreDrill.Result> drill(dev.strata.replica.restore.IntegrityCheck check) {
    List<dev.strata.agent.drill.RestoreDrill.Result> results = new ArrayList<>();
    for (ReplicaUploader u : uploaders) {
      var r = dev.strata.agent.drill.RestoreDrill.run(spec.name(), u.name(), u.client(),
          spec.meta().resolve("drill"), check, this::checksumAt);
      results.add(r);
      lastDrills.put(u.name(), r);
      if (r.ok()) lastGoodDrills.put(u.name(), r);
    }
    return results;
  }

  /** Asks the capture loop for a sync pass now (it runs within the capture loop's next few milliseconds). */
  public void requestSync() {
    synchronized (wake) {
      syncRequested = true;
      wake.notifyAll();
    }
  }

  /**
   * Waits until every commit made before this call is on at least {@code replicas} replicas (all of them when
   * {@code replicas} is 0 or more than there are); returns the TXID then durable. Forces nothing: the next
   * regular sync pass (or one asked for with {@link #requestSync}) covers the commits, and the uploads that
   * follow it make them durable. Throws {@link java.util.concurrent.TimeoutException} when that takes longer
   * than {@code timeout}.
   */
  public long awaitDurable(int replicas, Duration timeout) throws InterruptedException,
      java.util.concurrent.TimeoutException {
    return awaitDurable(replicas, timeout, false);
  }

  /**
   * {@link #awaitDurable(int, Duration)}, with {@code now}: asks for a sync pass at once instead of waiting for the
   * next regular one.
   */
  public long awaitDurable(int replicas, Duration timeout, boolean now) throws InterruptedException,
      java.util.concurrent.TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long target;
    synchronized (passes) {
      long after = passesBegun; // a pass already running may have begun before some of the caller's commits
      // asked for only now: a pass asked for before reading passesBegun could begin first and not count
      if (now) requestSync();
      while (passesDone <= after) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new java.util.concurrent.TimeoutException("not durable within " + timeout.toMillis()
              + " ms: no sync pass ran since the call (the next regular one is not due yet)");
        }
        TimeUnit.NANOSECONDS.timedWait(passes, left);
      }
      target = txidAfterPass;
    }
    int need = replicas <= 0 || replicas > uploaders.size() ? uploaders.size() : replicas;
    while (true) {
      int have = 0;
      for (ReplicaUploader u : uploaders) if (u.txid() >= target) have++;
      if (have >= need) return target;
      if (System.nanoTime() >= deadline) {
        StringBuilder behind = new StringBuilder();
        for (ReplicaUploader u : uploaders) {
          if (u.txid() < target) {
            behind.append(behind.isEmpty() ? "" : ", ").append(u.name()).append(" at ")
                .append(u.txid() < 0 ? "unknown" : dev.strata.ltx.Txid.format(u.txid()));
          }
        }
        throw new java.util.concurrent.TimeoutException("TXID " + dev.strata.ltx.Txid.format(target)
            + " not durable on " + need + " replica(s) within " + timeout.toMillis() + " ms (behind: " + behind + ")");
      }
      Thread.sleep(5);
    }
  }

  /** A sync (capture and file) or a capture alone, then a checkpoint if due; true when commits were captured. */
  private boolean pass(boolean sync) {
    try {
      boolean captured = sync ? capture.sync() : capture.capture();
      capture.checkpointIfDue();
      if (sync) backlog.check();
      return captured;
    } catch (IOException | RuntimeException e) {
      capture.stats().recordError();
      long now = System.currentTimeMillis();
      if (now - lastErrorLog >= ERROR_LOG_INTERVAL.toMillis()) {
        lastErrorLog = now;
        log.warn("{}: capture failed: {}", spec.name(), e.getMessage() != null ? e.getMessage() : e.toString(), e);
      }
      return false;
    }
  }

  /** Runs one capture pass now (tests and benchmarks). */
  public void syncNow() throws IOException {
    capture.sync();
  }

  /**
   * Stops: a final capture pass, then up to the shutdown timeout for every replica to take the last files.
   * Returns true when every replica caught up.
   */
  public boolean stop() {
    synchronized (wake) {
      stop.countDown();
      wake.notifyAll();
    }
    synchronized (this) {
      // a start in progress sees the stop and returns; this waits for it
    }
    try {
      if (captureThread != null) captureThread.join();
      for (ReplicaUploader u : uploaders) u.stop(spec.shutdownTimeout());
      for (Thread t : threads) t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    boolean caughtUp = true;
    for (ReplicaUploader u : uploaders) {
      if (!u.caughtUp()) {
        caughtUp = false;
        log.warn("{}: replica {} did not take every file before the stop (it has TXID {}); they stay in {}",
            spec.name(), u.name(), u.txid() < 0 ? "unknown" : dev.strata.ltx.Txid.format(u.txid()),
            capture.store().dir());
      }
    }
    return caughtUp;
  }

  /** Stops if running and releases the database, the meta directory and the replica clients. */
  @Override
  public void close() {
    if (stop.getCount() > 0) stop();
    try {
      capture.close();
    } catch (IOException e) {
      log.warn("{}: close: {}", spec.name(), e.getMessage());
    }
    for (ReplicaClient c : clients) closeQuietly(c);
  }

  private static void closeQuietly(ReplicaClient c) {
    try {
      c.close();
    } catch (Exception e) {
      // nothing to do
    }
  }
}
