package dev.strata.replica.level;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.Txid;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
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
 * The one compaction engine of Strata (DESIGN.md "One engine, two schedulers"): compaction, snapshots and
 * retention for one replica root, working only through {@link ReplicaClient}. The agent runs it on a wall-clock
 * schedule ({@link LevelSchedule}); the backup server runs the same steps per database from its own scheduler.
 *
 * <ul>
 *   <li>{@link #compact(int)} merges the new files of level n−1 into level n, one file per contiguous run;
 *   <li>{@link #snapshot()} builds a full snapshot by merging the newest snapshot with the files above it — never
 *       by reading the live database;
 *   <li>{@link #retain(int)} removes files whose restore points have left the retention window once no restore
 *       point still inside it needs them.
 * </ul>
 *
 * <p>What the replica holds is learnt from one listing on the first step and then kept in memory: writers report
 * their uploads through {@link #noteWritten}, and this class knows its own writes and deletes. So an idle database
 * costs no request at all, and a restart recompacts nothing: each level resumes after the highest TXID already
 * compacted into it or above it. After any failure the replica is listed again on the next step.
 *
 * <p>Rules that keep every chain whole (invariant 1): a compaction never merges across a gap or a broken checksum
 * chain. A run after a gap is compacted only when a snapshot ends right before it (the agent writes one after a
 * continuity break); a run that nothing anchors waits for the missing files, and one followed by an anchored run
 * can never be restored and is left to retention. Retention deletes a file only when its data is in a higher
 * level (or a snapshot), its own restore points have expired, and no restore plan to a restore point still inside
 * retention uses it. TXIDs are ordered unsigned ({@link Txid#compare}).
 */
public final class LevelCompactor {
  private static final Logger log = LoggerFactory.getLogger(LevelCompactor.class);
  /** Inputs merged into one output at most; longer runs (after downtime) give several files. Bounds memory. */
  static final int MAX_INPUTS = 32;

  private final ReplicaClient client;
  private final LevelConfig config;
  private final InstantSource clock;
  private final Path tempDir;
  private final int top;
  private final ConcurrentLinkedQueue<LtxFileMeta> notes = new ConcurrentLinkedQueue<>();
  private final Set<String> warned = new HashSet<>();
  private List<TreeMap<TxidRange, LtxFileMeta>> files; // by level; null until listed, or after a failure

  /** A compactor staging its outputs in the system temporary directory. */
  public LevelCompactor(ReplicaClient client, LevelConfig config, InstantSource clock) {
    this(client, config, clock, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** A compactor staging its outputs in {@code tempDir}. */
  public LevelCompactor(ReplicaClient client, LevelConfig config, InstantSource clock, Path tempDir) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.tempDir = tempDir;
    this.top = config.topLevel();
  }

  /**
   * Removes compaction outputs left in {@code dir} by a process killed mid-compaction. Only files a day old: other
   * compactors may be writing theirs there now. (The server wipes its own temporary directory at start.)
   */
  static void deleteStaleTemporaries(Path dir) {
    Instant old = Instant.now().minus(Duration.ofDays(1));
    try (var entries = Files.newDirectoryStream(dir, "strata-compact-*.ltx")) {
      for (Path p : entries) {
        if (Files.getLastModifiedTime(p).toInstant().isBefore(old)) Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a missing or unreadable directory: nothing to clean
    }
  }

  /** Where compaction outputs are staged. */
  Path tempDir() {
    return tempDir;
  }

  /** The replica this compactor works on. */
  public ReplicaClient client() {
    return client;
  }

  /** The levels it applies. */
  public LevelConfig config() {
    return config;
  }

  /**
   * Records a file a writer has just stored (level-0 batches, level-9 snapshots). Never blocks and sends nothing;
   * the next step takes it into account.
   */
  public void noteWritten(LtxFileMeta file) {
    notes.add(file);
  }

  // ---- the steps ----

  /** Compacts the files of level n−1 that are newer than anything in level n or above into level n. */
  public synchronized List<LtxFileMeta> compact(int n) throws IOException {
    if (n < 1 || n > top) throw new IllegalArgumentException("level " + n + " is not a compaction level");
    return step(() -> compactLevel(n));
  }

  /** Builds a snapshot at the newest TXID compacted into level 1 or above, when there is anything new; or null. */
  public synchronized LtxFileMeta snapshot() throws IOException {
    return step(this::snapshotNow);
  }

  /** Applies retention to one level (0..top, or {@link Level#SNAPSHOT}); returns what was deleted. */
  public synchronized List<TxidRange> retain(int level) throws IOException {
    config.level(level); // checks the level
    return step(() -> retainLevel(level, clock.instant()));
  }

  /**
   * The newest TXID stored in level {@code n}, any compaction level above it, or a snapshot (listing the replica
   * first if needed); 0 when there is none. A writer of level {@code n} continues after it.
   */
  public synchronized long storedThrough(int n) throws IOException {
    return step(() -> Txid.max(watermark(n), newestSnapshotMax()));
  }

  @FunctionalInterface
  private interface Step<T> {
    T run() throws IOException;
  }

  /** Runs a step on a known catalogue; after a failure what the replica holds is uncertain, so list it again. */
  private <T> T step(Step<T> step) throws IOException {
    try {
      if (files == null) load();
      drainNotes();
      return step.run();
    } catch (IOException | RuntimeException e) {
      files = null;
      throw e;
    }
  }

  // ---- what the schedule asks (package-private: LevelSchedule) ----

  /** True when level {@code n} has files waiting for compaction. */
  synchronized boolean pending(int n) throws IOException {
    return step(() -> !files.get(n - 1).tailMap(new TxidRange(watermark(n) + 1, 0), true).isEmpty());
  }

  /** True when a snapshot would add something. */
  synchronized boolean snapshotPending() throws IOException {
    return step(() -> Txid.compare(snapshotTarget(), newestSnapshotMax()) > 0);
  }

  /** When a file of {@code level} was last stored; the epoch if never. */
  synchronized Instant lastWritten(int level) throws IOException {
    return step(() -> {
      Instant last = Instant.EPOCH;
      for (LtxFileMeta f : files.get(level).values()) {
        if (f.createdAt() != null && f.createdAt().isAfter(last)) last = f.createdAt();
      }
      return last;
    });
  }

  /** True once the replica has been listed (and no failure made it uncertain since). */
  synchronized boolean loaded() {
    return files != null;
  }

  // ---- state ----

  private void load() throws IOException {
    List<TreeMap<TxidRange, LtxFileMeta>> loaded = new ArrayList<>();
    for (int level = 0; level <= Level.SNAPSHOT; level++) {
      TreeMap<TxidRange, LtxFileMeta> m = new TreeMap<>();
      if (level <= top || level == Level.SNAPSHOT) {
        for (LtxFileMeta f : client.listFiles(level)) m.put(f.range(), f);
      }
      loaded.add(m);
    }
    files = loaded;
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
      if (!m.isEmpty()) wm = Txid.max(wm, m.lastKey().max());
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

  private List<LtxFileMeta> compactLevel(int n) throws IOException {
    List<LtxFileMeta> written = new ArrayList<>();
    long wm = watermark(n);
    List<LtxFileMeta> sources = new ArrayList<>(files.get(n - 1).tailMap(new TxidRange(wm + 1, 0), true).values());
    if (sources.isEmpty()) return written;
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
          written.add(out);
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
      return written;
    }
    return written;
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

  /** Merges the inputs into a verified temporary file, uploads it to {@code level} and returns what was stored. */
  private LtxFileMeta merge(int level, List<LtxFileMeta> inputs, boolean snapshot) throws IOException {
    Files.createDirectories(tempDir);
    Path tmp = Files.createTempFile(tempDir, "strata-compact-", ".ltx");
    try {
      LtxFileInfo info = MergedLtxFile.write(client, inputs, snapshot, tmp);
      long size = Files.size(tmp);
      LtxFileMeta stored;
      try (InputStream in = Files.newInputStream(tmp)) {
        stored = client.writeFile(level, info, in, size);
      }
      log.info("{}: compacted {} into {}/{} ({} pages, {} bytes)", client.location(),
          MergedLtxFile.describe(inputs), level, stored.fileName(), info.pageCount(), size);
      return stored;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  // ---- snapshots ----

  /** The TXID a snapshot would reach now: the newest TXID compacted into level 1 or above. */
  private long snapshotTarget() {
    return watermark(1);
  }

  private LtxFileMeta snapshotNow() throws IOException {
    long target = snapshotTarget();
    if (Txid.compare(target, newestSnapshotMax()) <= 0) return null;
    RestorePlan plan;
    try {
      plan = RestorePlanner.plan(view(), target);
    } catch (IOException e) {
      warnOnce("snapshot " + target, "{}: no snapshot at TXID {}: {}", client.location(), Txid.format(target),
          e.getMessage());
      return null;
    }
    // Already a snapshot there. (A lone full-database file of a lower level is still copied into level 9, so that
    // retention can trim the lower levels behind it, as litefs-backup's snapshots do.)
    if (plan.files().size() == 1 && plan.files().getFirst().level() == Level.SNAPSHOT) return null;
    LtxFileMeta out = merge(Level.SNAPSHOT, plan.files(), true);
    files.get(Level.SNAPSHOT).put(out.range(), out);
    return out;
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
    return Txid.compare(f.maxTxid(), heldAbove[level]) <= 0
        && time(f).isBefore(now.minus(config.level(level).retention()));
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
  private List<TxidRange> retainLevel(int level, Instant now) throws IOException {
    TreeMap<TxidRange, LtxFileMeta> lv = files.get(level);
    long[] held = heldAbove();
    List<LtxFileMeta> candidates = new ArrayList<>();
    for (LtxFileMeta f : lv.values()) {
      if (expired(f, now, held)) candidates.add(f);
    }
    if (candidates.isEmpty()) return List.of();
    TreeSet<Long> required = new TreeSet<>(Txid::compare);
    long latest = 0;
    for (var m : files) {
      for (LtxFileMeta f : m.values()) {
        latest = Txid.max(latest, f.maxTxid());
        if (!expired(f, now, held)) required.add(f.maxTxid());
      }
    }
    required.add(latest);
    long lo = candidates.getFirst().maxTxid(), hi = 0;
    for (LtxFileMeta c : candidates) {
      if (Txid.compare(c.maxTxid(), lo) < 0) lo = c.maxTxid();
      hi = Txid.max(hi, c.maxTxid());
    }
    ReplicaFiles view = view();
    Set<TxidRange> needed = new HashSet<>();
    for (long point : required.tailSet(lo, true)) {
      LtxFileMeta base = view.baseAtOrBefore(point);
      if (base != null && Txid.compare(base.maxTxid(), hi) > 0) break; // later plans start after every candidate
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
    if (delete.isEmpty()) return List.of();
    client.deleteFiles(level, delete);
    for (TxidRange r : delete) lv.remove(r);
    log.info("{}: retention removed {} file{} of level {} ({} .. {})", client.location(), delete.size(),
        delete.size() == 1 ? "" : "s", level, delete.getFirst(), delete.getLast());
    return delete;
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
