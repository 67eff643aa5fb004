package dev.strata.replica.level;

import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Txid;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ResumableInputStream;
import dev.strata.replica.restore.ReplicaFiles;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compaction and retention for one replica root (DESIGN.md "Levels"). At wall-clock multiples of each level's
 * interval it merges the new files of the level below into one file per contiguous run, and removes files whose
 * restore points have left the retention window once no restore point still inside it needs them. At the snapshot
 * interval it builds a snapshot by merging the newest snapshot with the files above it — never by reading the live
 * database.
 *
 * <p>What the replica holds is learnt from one listing on the first {@link #runDue()} and then kept in memory:
 * the writer reports its uploads through {@link #noteWritten}, and this class knows its own writes and deletes. So
 * an idle database costs no request at all, and a restart recompacts nothing: each level resumes after the highest
 * TXID already compacted into it or above it.
 *
 * <p>Rules that keep every chain whole (invariant 1): a compaction never merges across a gap or a broken checksum
 * chain. A run after a gap is compacted only when a snapshot ends right before it (the agent writes one after a
 * continuity break); a run that nothing anchors waits for the missing files, and one followed by an anchored run
 * can never be restored and is left to retention. Retention deletes a file only when its data is in a higher
 * level (or a snapshot), its own restore points have expired, and no restore plan to a restore point still inside
 * retention uses it.
 */
public final class LevelCompactor {
  private static final Logger log = LoggerFactory.getLogger(LevelCompactor.class);
  /** Inputs merged into one output at most; longer runs (after downtime) give several files. Bounds memory. */
  static final int MAX_INPUTS = 32;
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
  private static final Duration SNAPSHOT_RETRY = Duration.ofHours(1);

  private final ReplicaClient client;
  private final LevelConfig config;
  private final Clock clock;
  private final Path tempDir;
  private final int top;
  private final ConcurrentLinkedQueue<LtxFileMeta> notes = new ConcurrentLinkedQueue<>();
  private final Instant[] next = new Instant[Level.SNAPSHOT + 1]; // when each level's step is due next
  private final Set<String> warned = new HashSet<>();
  private List<TreeMap<TxidRange, LtxFileMeta>> files; // by level; null until listed, or after a failure
  private Duration backoff = Duration.ZERO;
  private Instant retryAt = Instant.MIN;
  private volatile Instant nextDue;

  /** A compactor staging its outputs in the system temporary directory. */
  public LevelCompactor(ReplicaClient client, LevelConfig config, Clock clock) {
    this(client, config, clock, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** A compactor staging its outputs in {@code tempDir}. */
  public LevelCompactor(ReplicaClient client, LevelConfig config, Clock clock, Path tempDir) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.tempDir = tempDir;
    this.top = config.topLevel();
    Instant now = clock.instant();
    for (int n = 1; n <= top; n++) next[n] = boundaryAfter(now, config.level(n).interval());
    next[Level.SNAPSHOT] = boundaryAfter(now, config.snapshotInterval());
    nextDue = computeNextDue();
    deleteStaleTemporaries(tempDir);
  }

  /**
   * Removes compaction outputs left in {@code dir} by a process killed mid-compaction. Only files a day old: other
   * compactors may be writing theirs there now.
   */
  private static void deleteStaleTemporaries(Path dir) {
    Instant old = Instant.now().minus(Duration.ofDays(1));
    try (var entries = Files.newDirectoryStream(dir, "strata-compact-*.ltx")) {
      for (Path p : entries) {
        if (Files.getLastModifiedTime(p).toInstant().isBefore(old)) Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a missing or unreadable directory: nothing to clean
    }
  }

  /**
   * Records a file the writer has just stored (level 0 batches, level-9 snapshots). Never blocks and sends
   * nothing; the next {@link #runDue()} takes it into account.
   */
  public void noteWritten(LtxFileMeta file) {
    notes.add(file);
  }

  /** When {@link #runDue()} next has something to do (at the earliest). */
  public Instant nextDue() {
    return nextDue;
  }

  /**
   * Runs every compaction and retention step due now, lowest level first, so that a snapshot taken at midnight
   * holds everything compacted at midnight. Sends no request when nothing is due or nothing changed. After a
   * failure the state is listed again on the next call, which is delayed (10 s, doubling up to 5 min).
   */
  public synchronized void runDue() throws IOException {
    Instant now = clock.instant();
    if (now.isBefore(retryAt)) return;
    try {
      if (files == null) load(now);
      for (int n = 1; n <= top; n++) {
        if (now.isBefore(next[n])) continue;
        drainNotes();
        compact(n);
        retain(n - 1, now);
        next[n] = boundaryAfter(now, config.level(n).interval());
      }
      if (!now.isBefore(next[Level.SNAPSHOT])) {
        drainNotes();
        try {
          snapshot();
        } catch (IOException | RuntimeException e) {
          // A snapshot reads the whole database: after a failure, try again in an hour, not after the backoff.
          Instant retry = now.plus(SNAPSHOT_RETRY);
          Instant boundary = boundaryAfter(now, config.snapshotInterval());
          next[Level.SNAPSHOT] = retry.isBefore(boundary) ? retry : boundary;
          throw e;
        }
        retain(top, now);
        retain(Level.SNAPSHOT, now);
        next[Level.SNAPSHOT] = boundaryAfter(now, config.snapshotInterval());
      }
      backoff = Duration.ZERO;
    } catch (IOException | RuntimeException e) {
      files = null; // what the replica holds is uncertain now: list again
      backoff = backoff.isZero() ? Duration.ofSeconds(10) : min(backoff.multipliedBy(2), MAX_BACKOFF);
      retryAt = now.plus(backoff);
      throw e;
    } finally {
      nextDue = computeNextDue();
    }
  }

  private Instant computeNextDue() {
    Instant due = next[Level.SNAPSHOT];
    for (int n = 1; n <= top; n++) {
      if (next[n].isBefore(due)) due = next[n];
    }
    return due.isBefore(retryAt) ? retryAt : due;
  }

  /** The first wall-clock multiple of {@code interval} after {@code now} (UTC, like Go's Time.Truncate). */
  static Instant boundaryAfter(Instant now, Duration interval) {
    return floor(now, interval).plus(interval);
  }

  private static Instant floor(Instant now, Duration interval) {
    long step = interval.toMillis();
    return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), step) * step);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  // ---- state ----

  private void load(Instant now) throws IOException {
    List<TreeMap<TxidRange, LtxFileMeta>> loaded = new ArrayList<>();
    for (int level = 0; level <= Level.SNAPSHOT; level++) {
      TreeMap<TxidRange, LtxFileMeta> m = new TreeMap<>();
      if (level <= top || level == Level.SNAPSHOT) {
        for (LtxFileMeta f : client.listFiles(level)) m.put(f.range(), f);
      }
      loaded.add(m);
    }
    files = loaded;
    drainNotes();
    // A level whose last compaction happened before the last boundary, with work waiting, is due now: a process
    // that restarts more often than an interval must not starve the level.
    for (int n = 1; n <= top; n++) {
      if (pending(n) && lastWritten(n).isBefore(floor(now, config.level(n).interval()))) next[n] = now;
    }
    if (snapshotTarget() > newestSnapshotMax()
        && lastWritten(Level.SNAPSHOT).isBefore(floor(now, config.snapshotInterval()))) {
      next[Level.SNAPSHOT] = now;
    }
  }

  private boolean pending(int n) {
    return !files.get(n - 1).tailMap(new TxidRange(watermark(n) + 1, 0), true).isEmpty();
  }

  private Instant lastWritten(int level) {
    Instant last = Instant.EPOCH;
    for (LtxFileMeta f : files.get(level).values()) {
      if (f.createdAt() != null && f.createdAt().isAfter(last)) last = f.createdAt();
    }
    return last;
  }

  private void drainNotes() {
    for (LtxFileMeta f; (f = notes.poll()) != null; ) {
      if (files != null && (f.level() <= top || f.level() == Level.SNAPSHOT)) files.get(f.level()).put(f.range(), f);
    }
  }

  /** The highest TXID compacted into level {@code n} or any level above it (snapshots excluded); 0 if none. */
  private long watermark(int n) {
    long wm = 0;
    for (int l = n; l <= top; l++) {
      var m = files.get(l);
      if (!m.isEmpty()) wm = Math.max(wm, m.lastKey().max());
    }
    return wm;
  }

  private long newestSnapshotMax() {
    var m = files.get(Level.SNAPSHOT);
    return m.isEmpty() ? 0 : m.lastKey().max();
  }

  private LtxFileMeta snapshotEndingAt(long txid) {
    for (LtxFileMeta f : files.get(Level.SNAPSHOT).values()) {
      if (f.maxTxid() == txid) return f;
    }
    return null;
  }

  private ReplicaFiles view() {
    List<LtxFileMeta> all = new ArrayList<>();
    for (var m : files) all.addAll(m.values());
    return ReplicaFiles.of(all);
  }

  // ---- compaction ----

  /** Compacts the files of level n-1 that are newer than anything in level n or above into level n. */
  private void compact(int n) throws IOException {
    long wm = watermark(n);
    List<LtxFileMeta> sources = new ArrayList<>(files.get(n - 1).tailMap(new TxidRange(wm + 1, 0), true).values());
    if (sources.isEmpty()) return;
    List<List<LtxFileMeta>> runs = new ArrayList<>();
    for (LtxFileMeta f : sources) {
      List<LtxFileMeta> run = runs.isEmpty() ? null : runs.getLast();
      if (run != null && chains(run.getLast(), f)) run.add(f);
      else runs.add(new ArrayList<>(List.of(f)));
    }
    long cur = wm, curPost = postAt(n, wm);
    for (int i = 0; i < runs.size(); i++) {
      List<LtxFileMeta> run = runs.get(i);
      LtxFileMeta first = run.getFirst();
      if (anchored(first, cur, curPost)) {
        for (int from = 0; from < run.size(); from += MAX_INPUTS) {
          LtxFileMeta out = merge(n, run.subList(from, Math.min(run.size(), from + MAX_INPUTS)), false);
          files.get(n).put(out.range(), out);
        }
        cur = run.getLast().maxTxid();
        curPost = run.getLast().postApplyChecksum();
        continue;
      }
      boolean laterAnchored = false;
      for (int j = i + 1; j < runs.size() && !laterAnchored; j++) laterAnchored = bridged(runs.get(j).getFirst());
      String gap = "level " + (n - 1) + " files " + first.fileName() + " and after";
      if (laterAnchored) {
        warnOnce("orphan " + n + first.range(), "{}: not compacting {} into level {}: TXIDs {}-{} are missing and no "
            + "snapshot bridges the gap, so they cannot be restored", client.location(), gap, n, Txid.format(cur + 1),
            Txid.format(first.minTxid() - 1));
        continue;
      }
      warnOnce("stall " + n + first.range(), "{}: level {} compaction waits: TXIDs {}-{} are missing before {}",
          client.location(), n, Txid.format(cur + 1), Txid.format(first.minTxid() - 1), gap);
      return;
    }
  }

  /** True when {@code next} continues {@code prev}: adjacent TXIDs and, where both are known, equal checksums. */
  private static boolean chains(LtxFileMeta prev, LtxFileMeta next) {
    return next.minTxid() == prev.maxTxid() + 1 && checksumsAgree(prev.postApplyChecksum(), next.preApplyChecksum());
  }

  private static boolean checksumsAgree(long post, long pre) {
    return post == 0 || pre == 0 || post == pre;
  }

  private boolean anchored(LtxFileMeta first, long cur, long curPost) {
    if (first.minTxid() == 1) return true;
    if (first.minTxid() == cur + 1 && checksumsAgree(curPost, first.preApplyChecksum())) return true;
    return bridged(first);
  }

  /** True when a snapshot ends right before {@code first}, so that a restore can start there. */
  private boolean bridged(LtxFileMeta first) {
    LtxFileMeta snap = snapshotEndingAt(first.minTxid() - 1);
    return snap != null && checksumsAgree(snap.postApplyChecksum(), first.preApplyChecksum());
  }

  /** The post-apply checksum of the level-n-or-above file ending at {@code txid}; 0 if unknown. */
  private long postAt(int n, long txid) {
    for (int l = n; l <= top; l++) {
      var m = files.get(l);
      if (!m.isEmpty() && m.lastKey().max() == txid) return m.lastEntry().getValue().postApplyChecksum();
    }
    return 0;
  }

  /**
   * Streams the inputs through {@link LtxCompactor} into a temporary file, verifies it, uploads it to
   * {@code level} and returns what was stored.
   */
  private LtxFileMeta merge(int level, List<LtxFileMeta> inputs, boolean snapshot) throws IOException {
    Files.createDirectories(tempDir);
    Path tmp = Files.createTempFile(tempDir, "strata-compact-", ".ltx");
    try {
      List<InputStream> streams = new ArrayList<>();
      for (LtxFileMeta f : inputs) {
        streams.add(new BufferedInputStream(new ResumableInputStream(client, f.level(), f.range()), 64 * 1024));
      }
      LtxFileInfo info;
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 256 * 1024)) {
        // A snapshot plan may start a file inside the previous one's range (applying it again is harmless).
        info = new LtxCompactor(LtxHeader.FLAG_COMPRESS_LZ4, snapshot).compact(streams, out);
      } catch (IOException e) {
        throw new IOException("compacting " + describe(inputs) + " into level " + level + ": " + e.getMessage(), e);
      }
      LtxFileInfo check;
      try (InputStream in = Files.newInputStream(tmp)) {
        check = LtxDecoder.verify(in); // for a snapshot this also proves the database checksum of every page
      }
      if (!check.trailer().equals(info.trailer())) {
        throw new IOException("compaction of " + describe(inputs) + " wrote a file that reads back differently");
      }
      long size = Files.size(tmp);
      LtxFileMeta stored;
      try (InputStream in = Files.newInputStream(tmp)) {
        stored = client.writeFile(level, info, in, size);
      }
      log.info("{}: compacted {} into {}/{} ({} pages, {} bytes)", client.location(), describe(inputs), level,
          stored.fileName(), info.pageCount(), size);
      return stored;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static String describe(List<LtxFileMeta> inputs) {
    LtxFileMeta a = inputs.getFirst(), b = inputs.getLast();
    return inputs.size() + " file" + (inputs.size() == 1 ? "" : "s") + " of level "
        + (a.level() == b.level() ? Integer.toString(a.level()) : a.level() + ".." + b.level()) + " (TXIDs "
        + Txid.format(a.minTxid()) + "-" + Txid.format(b.maxTxid()) + ")";
  }

  // ---- snapshots ----

  /** The TXID a snapshot would reach now: the newest TXID compacted into level 1 or above. */
  private long snapshotTarget() {
    return watermark(1);
  }

  /** Merges the newest snapshot with the files above it into a new snapshot, when there is anything new. */
  private void snapshot() throws IOException {
    long target = snapshotTarget();
    if (target <= newestSnapshotMax()) return;
    RestorePlan plan;
    try {
      plan = RestorePlanner.plan(view(), target);
    } catch (IOException e) {
      warnOnce("snapshot " + target, "{}: no snapshot at TXID {}: {}", client.location(), Txid.format(target),
          e.getMessage());
      return;
    }
    if (plan.files().size() == 1) return; // already a full-database file there
    LtxFileMeta out = merge(Level.SNAPSHOT, plan.files(), true);
    files.get(Level.SNAPSHOT).put(out.range(), out);
  }

  // ---- retention ----

  /** The time a file's restore points refer to: its LTX header timestamp, else when it was stored. */
  private static Instant time(LtxFileMeta f) {
    return f.hasHeader() ? Instant.ofEpochMilli(f.timestamp()) : f.createdAt();
  }

  /**
   * True when retention may consider deleting {@code f}: its restore points are older than its level's retention
   * and its data is also held higher up ({@code heldAbove[level]}: the highest TXID in a higher level, or for the
   * top level in a snapshot). The newest snapshot never is.
   */
  private boolean expired(LtxFileMeta f, Instant now, long[] heldAbove) {
    int level = f.level();
    if (level == Level.SNAPSHOT) {
      if (f.range().equals(files.get(Level.SNAPSHOT).lastKey())) return false;
      return time(f).isBefore(now.minus(config.snapshotRetention()));
    }
    return f.maxTxid() <= heldAbove[level] && time(f).isBefore(now.minus(config.level(level).retention()));
  }

  private long[] heldAbove() {
    long[] held = new long[top + 1];
    for (int level = 0; level < top; level++) held[level] = watermark(level + 1);
    held[top] = newestSnapshotMax();
    return held;
  }

  /**
   * Deletes the expired files of one level that no restore plan to a retained restore point uses. The retained
   * restore points are the ends of every file that is not itself expired; only the points whose plan can reach
   * the expired files (from their max to the next snapshot after them) are planned.
   */
  private void retain(int level, Instant now) throws IOException {
    drainNotes();
    TreeMap<TxidRange, LtxFileMeta> lv = files.get(level);
    long[] held = heldAbove();
    List<LtxFileMeta> candidates = new ArrayList<>();
    for (LtxFileMeta f : lv.values()) {
      if (expired(f, now, held)) candidates.add(f);
    }
    if (candidates.isEmpty()) return;
    TreeSet<Long> required = new TreeSet<>();
    long latest = 0;
    for (var m : files) {
      for (LtxFileMeta f : m.values()) {
        latest = Math.max(latest, f.maxTxid());
        if (!expired(f, now, held)) required.add(f.maxTxid());
      }
    }
    required.add(latest);
    long lo = Long.MAX_VALUE, hi = 0;
    for (LtxFileMeta c : candidates) {
      lo = Math.min(lo, c.maxTxid());
      hi = Math.max(hi, c.maxTxid());
    }
    ReplicaFiles view = view();
    Set<TxidRange> needed = new HashSet<>();
    for (long point : required.tailSet(lo, true)) {
      LtxFileMeta base = view.baseAtOrBefore(point);
      if (base != null && base.maxTxid() > hi) break; // plans from here on start after every candidate
      if (base == null) continue;
      try {
        for (LtxFileMeta f : RestorePlanner.plan(view, point).files()) {
          if (f.level() == level) needed.add(f.range());
        }
      } catch (IOException e) {
        // not restorable today either (a gap that retention did not make); nothing here can repair it
      }
    }
    List<TxidRange> delete = new ArrayList<>();
    for (LtxFileMeta c : candidates) {
      if (!needed.contains(c.range())) delete.add(c.range());
    }
    if (delete.isEmpty()) return;
    client.deleteFiles(level, delete);
    for (TxidRange r : delete) lv.remove(r);
    log.info("{}: retention removed {} file{} of level {} ({} .. {})", client.location(), delete.size(),
        delete.size() == 1 ? "" : "s", level, delete.getFirst(), delete.getLast());
  }

  private void warnOnce(String key, String format, Object... args) {
    if (warned.add(key)) log.warn(format, args);
  }

  /** What this compactor knows the replica holds, by level (for tests and status). */
  synchronized Map<Integer, List<LtxFileMeta>> known() {
    Map<Integer, List<LtxFileMeta>> out = new TreeMap<>();
    if (files == null) return out;
    for (int l = 0; l < files.size(); l++) {
      if (!files.get(l).isEmpty()) out.put(l, List.copyOf(files.get(l).values()));
    }
    return out;
  }
}
