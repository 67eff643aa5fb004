package dev.strata.server;

import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxException;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.server.compaction.Compactor;
import dev.strata.server.compaction.DbLocks;
import dev.strata.server.compaction.RemoteFiles;
import dev.strata.server.compaction.SnapshotPlan;
import dev.strata.server.store.AppendTx;
import dev.strata.server.store.DbRow;
import dev.strata.server.store.DbState;
import dev.strata.server.store.LocalSnapshot;
import dev.strata.server.store.LtxSnapshotSink;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.PageSink;
import dev.strata.server.store.Rows;
import dev.strata.server.store.SpooledLtx;
import dev.strata.server.store.SqliteFileSink;
import dev.strata.server.store.TxnRow;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the HTTP API does, without HTTP: the LiteFS protocol (positions, uploads, snapshots) and the litefs-backup
 * control plane (info, restore, import, delete). Every method takes an already validated cluster and database.
 */
public final class BackupService {
  private static final Logger log = LoggerFactory.getLogger(BackupService.class);

  private final MetadataStore store;
  private final Compactor compactor;
  private final Levels levels;
  private final Path tmpDir;
  private final InstantSource clock;
  private final ServerMetrics metrics;
  private final DbLocks locks;

  public BackupService(MetadataStore store, Compactor compactor, Levels levels, Path tmpDir, InstantSource clock,
      ServerMetrics metrics, DbLocks locks) {
    this.store = store;
    this.compactor = compactor;
    this.levels = levels;
    this.tmpDir = tmpDir;
    this.clock = clock;
    this.metrics = metrics;
    this.locks = locks;
  }

  /** {@code GET /pos}: every database of the cluster and its position, by name. */
  public Map<String, Pos> positions(String cluster) throws IOException {
    Map<String, Pos> out = new TreeMap<>();
    for (DbState s : store.read(c -> Rows.listStates(c, cluster))) out.put(s.db().name(), s.pos());
    return out;
  }

  /** {@code POST /db/tx}: receives, verifies and appends one LTX file; returns the new position and the HWM. */
  public AppendTx.Result writeTx(String cluster, String name, InputStream body) throws IOException {
    SpooledLtx file;
    try {
      file = SpooledLtx.receive(body, tmpDir);
    } catch (LtxException e) {
      metrics.upload("rejected", 0, -1);
      throw new ApiException(ErrorCode.EBADLTX, e.getMessage());
    }
    long start = System.nanoTime();
    try (file) {
      AppendTx.Result r = store.write(AppendTx.tx(cluster, name, file, clock.millis()));
      metrics.upload("ok", file.size(), (System.nanoTime() - start) / 1e9);
      return r;
    } catch (ApiException e) {
      if (e.code() == ErrorCode.EPOSMISMATCH) {
        metrics.positionMismatch();
        metrics.upload("conflict", 0, -1);
      } else {
        metrics.upload(e.code().status() < 500 ? "rejected" : "error", 0, -1);
      }
      throw e;
    }
  }

  /** Where a snapshot goes once its transaction is known (so that headers can be sent first). */
  @FunctionalInterface
  public interface SnapshotTarget {
    OutputStream start(TxnRow txn) throws IOException;
  }

  /** {@code GET /db/snapshot}: streams the current state as an LTX snapshot or a SQLite file. */
  public void snapshot(String cluster, String name, boolean sqlite, SnapshotTarget target) throws IOException {
    store.read(c -> {
      DbState s = Rows.findState(c, cluster, name);
      if (s == null || s.last() == null) throw ApiException.noDatabase();
      PageSink sink = new PageSink() {
        PageSink inner;

        @Override
        public void begin(TxnRow txn) throws IOException {
          OutputStream out = target.start(txn);
          inner = sqlite ? new SqliteFileSink(out) : new LtxSnapshotSink(out);
          inner.begin(txn);
        }

        @Override
        public void page(int pgno, byte[] data) throws IOException {
          inner.page(pgno, data);
        }

        @Override
        public void end() throws IOException {
          inner.end();
        }
      };
      return LocalSnapshot.write(c, s.db().id(), s.last().maxTxid(), sink);
    });
  }

  /** One restore point as {@code /db/info} lists it. */
  public record RestorePoint(long maxTxid, Instant timestamp, long postApplyChecksum) {}

  /** {@code GET /db/info}: the level-2 restore points, or only the first and last. */
  public List<RestorePoint> info(String cluster, String name, boolean all) throws IOException {
    if (store.read(c -> Rows.findDb(c, cluster, name)) == null) throw ApiException.noDatabase();
    ReplicaClient r = compactor.storage(cluster, name);
    List<LtxFileMeta> files = r.listFiles(Levels.RESTORE_TARGET);
    if (!all && files.size() > 1) files = List.of(files.getFirst(), files.getLast());
    else if (!all && files.size() == 1) files = List.of(files.getFirst(), files.getFirst());
    List<RestorePoint> out = new ArrayList<>();
    for (LtxFileMeta d : RemoteFiles.describeAll(r, files)) {
      out.add(new RestorePoint(d.maxTxid(), Instant.ofEpochMilli(d.timestamp()), d.postApplyChecksum()));
    }
    return out;
  }

  /** A restore point that exists: its TXID and the time of its state. */
  public record Checked(long txid, Instant timestamp) {}

  /**
   * {@code GET /db/restore/check}: resolves a TXID or timestamp to a restore point and proves its snapshot can be
   * built.
   */
  public Checked restoreCheck(String cluster, String name, Long txid, Instant timestamp) throws IOException {
    DbRow db = store.read(c -> Rows.findDb(c, cluster, name));
    if (db == null) {
      throw timestamp != null ? new ApiException(ErrorCode.ENOTIMESTAMP, "timestamp not available")
          : ApiException.noTxid(null);
    }
    Checked point = resolve(db, txid, timestamp);
    snapshotAt(db, point.txid()).close(); // built and verified, then discarded
    return point;
  }

  /**
   * {@code POST /db/restore}: makes the state at a restore point the database's newest transaction (current TXID
   * + 1), which LiteFS then fetches. Restoring to the current TXID changes nothing. Returns the new TXID.
   */
  public long restore(String cluster, String name, Long txid, Instant timestamp) throws IOException {
    DbRow db = store.read(c -> Rows.findDb(c, cluster, name));
    if (db == null) {
      // litefs-backup looks the timestamp up in storage first, so an unknown database reads as no such time.
      throw timestamp != null ? new ApiException(ErrorCode.ENOTIMESTAMP, "timestamp not available")
          : ApiException.noDatabase();
    }
    long target = timestamp != null ? findByTimestamp(db, timestamp).txid() : txid;
    DbState state = store.read(c -> Rows.findState(c, cluster, name));
    if (state == null) throw ApiException.noDatabase();
    long current = state.pos().txid();
    if (Long.compareUnsigned(target, current) > 0) {
      throw ApiException.noTxid(Txid.format(target) + " is after the current position " + Txid.format(current));
    }
    if (target == current) return current;
    try (SpooledLtx s = snapshotAt(db, target)) {
      long now = clock.millis();
      AppendTx.Result r = store.write(AppendTx.snapshot(cluster, name, s, now, now, false));
      log.info("restored {}/{} to {} as {}", cluster, name, Txid.format(target), Txid.format(r.pos().txid()));
      return r.pos().txid();
    }
  }

  /** {@code POST /db/upload}: appends a SQLite database file as the next transaction; returns its TXID. */
  public long importDatabase(String cluster, String name, InputStream body) throws IOException {
    Path tmp = Files.createTempFile(tmpDir, "import-", ".ltx");
    long now = clock.millis();
    try (OutputStream out = Files.newOutputStream(tmp)) {
      SqliteImport.toLtx(body, out, now);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    try (SpooledLtx s = SpooledLtx.adopt(tmp)) {
      return store.write(AppendTx.snapshot(cluster, name, s, now, null, true)).pos().txid();
    }
  }

  /**
   * {@code DELETE /db}: removes the database's rows, then its storage objects. A crash in between leaves a
   * recorded deletion that {@link #finishDeletions} completes at the next start.
   */
  public void delete(String cluster, String name) throws IOException {
    ReentrantLock lock = locks.of(cluster, name);
    lock.lock();
    try {
      DbRow db = store.read(c -> Rows.findDb(c, cluster, name));
      if (db == null) throw ApiException.noDatabase();
      store.write(c -> {
        Rows.deleteDb(c, db);
        return null;
      });
      compactor.forget(db.id());
      removeStorage(cluster, name);
    } finally {
      lock.unlock();
    }
  }

  /** Completes deletions interrupted by a crash. */
  public void finishDeletions() throws IOException {
    for (String[] d : store.read(Rows::pendingDeletions)) {
      ReentrantLock lock = locks.of(d[0], d[1]);
      lock.lock();
      try {
        removeStorage(d[0], d[1]);
      } finally {
        lock.unlock();
      }
    }
  }

  private void removeStorage(String cluster, String name) throws IOException {
    ReplicaClient r = compactor.storage(cluster, name);
    try {
      for (int level = 1; level <= ReplicaClient.MAX_LEVEL; level++) {
        List<LtxFileMeta> files = r.listFiles(level);
        r.deleteFiles(level, files.stream().map(LtxFileMeta::range).toList());
      }
    } catch (IOException e) {
      metrics.storageError("delete");
      throw e;
    }
    store.write(c -> {
      Rows.finishDeletion(c, cluster, name);
      return null;
    });
  }

  /** Per-database lag for the metrics. */
  public List<ServerMetrics.Lag> lags() {
    try {
      return store.read(c -> {
        List<ServerMetrics.Lag> out = new ArrayList<>();
        for (DbState s : Rows.listStates(c, null)) {
          out.add(new ServerMetrics.Lag(s.db().cluster(), s.db().name(), s.pos().txid(), s.db().hwm()));
        }
        return out;
      });
    } catch (IOException e) {
      return List.of();
    }
  }

  // --- restore points -------------------------------------------------------------------------------------------

  /** Resolves a restore request to an exact restore point. */
  private Checked resolve(DbRow db, Long txid, Instant timestamp) throws IOException {
    if (timestamp != null) return findByTimestamp(db, timestamp);
    TxnRow local = store.read(c -> Rows.txnByMax(c, db.id(), txid));
    if (local != null) return new Checked(txid, Instant.ofEpochMilli(local.timestamp()));
    ReplicaClient r = compactor.storage(db.cluster(), db.name());
    SnapshotPlan plan = exactPlan(db, r, txid);
    LtxFileMeta last = RemoteFiles.describe(r, plan.last());
    return new Checked(txid, Instant.ofEpochMilli(last.timestamp()));
  }

  /**
   * litefs-backup's timestamp lookup (spec §3.4): in level 2, then 3, then 9, the file before the first one whose
   * timestamp is after {@code t}. Files are described a chunk at a time, in parallel (one HEAD each on S3).
   */
  private Checked findByTimestamp(DbRow db, Instant t) throws IOException {
    ReplicaClient r = compactor.storage(db.cluster(), db.name());
    for (int level = Levels.RESTORE_TARGET; level != -1; level = levels.next(level)) {
      List<LtxFileMeta> files = r.listFiles(level);
      LtxFileMeta found = null;
      scan:
      for (int from = 0; from < files.size(); from += RemoteFiles.PARALLEL) {
        List<LtxFileMeta> chunk = files.subList(from, Math.min(files.size(), from + RemoteFiles.PARALLEL));
        for (LtxFileMeta d : RemoteFiles.describeAll(r, chunk)) {
          if (d.timestamp() > t.toEpochMilli()) break scan;
          found = d;
        }
      }
      if (found != null) return new Checked(found.maxTxid(), Instant.ofEpochMilli(found.timestamp()));
    }
    throw new ApiException(ErrorCode.ENOTIMESTAMP, "timestamp not available");
  }

  /**
   * The snapshot of the state at exactly {@code txid}, built from level 0 when it still holds that transaction,
   * else from storage; an error naming the nearest restore points when {@code txid} is not one.
   */
  SpooledLtx snapshotAt(DbRow db, long txid) throws IOException {
    Path tmp = Files.createTempFile(tmpDir, "snapshot-", ".ltx");
    try {
      boolean local;
      try (OutputStream out = Files.newOutputStream(tmp)) {
        local = store.read(c -> {
          if (Rows.txnByMax(c, db.id(), txid) == null) return false;
          LocalSnapshot.write(c, db.id(), txid, new LtxSnapshotSink(out));
          return true;
        });
      }
      if (!local) {
        ReplicaClient r = compactor.storage(db.cluster(), db.name());
        SnapshotPlan plan = exactPlan(db, r, txid);
        List<InputStream> streams = RemoteFiles.openAll(r, plan.files());
        try (OutputStream out = Files.newOutputStream(tmp)) {
          LtxCompactor.lz4().compact(streams, out);
        }
      }
      return SpooledLtx.adopt(tmp);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /** A storage plan ending exactly at {@code txid}, or {@code ENOTXID} naming the nearest restore points. */
  private SnapshotPlan exactPlan(DbRow db, ReplicaClient r, long txid) throws IOException {
    Map<Integer, List<LtxFileMeta>> listing = compactor.listAll(r);
    SnapshotPlan plan = null;
    try {
      plan = SnapshotPlan.calc(listing, txid);
    } catch (ApiException e) {
      // no file at or before txid: fall through to the nearest points
    }
    if (plan != null && plan.endsAt(txid)) return plan;
    throw notRestorePoint(db, listing, txid);
  }

  private ApiException notRestorePoint(DbRow db, Map<Integer, List<LtxFileMeta>> listing, long txid)
      throws IOException {
    List<Long> localList = store.read(c -> Rows.txnMaxTxids(c, db.id()));
    TreeSet<Long> local = new TreeSet<>(localList);
    TreeSet<Long> candidates = new TreeSet<>(local);
    for (List<LtxFileMeta> files : listing.values()) for (LtxFileMeta f : files) candidates.add(f.maxTxid());
    Long below = null, above = null;
    for (Long c : candidates.headSet(txid, false).descendingSet()) {
      if (restorable(c, local, listing)) {
        below = c;
        break;
      }
    }
    for (Long c : candidates.tailSet(txid, false)) {
      if (restorable(c, local, listing)) {
        above = c;
        break;
      }
    }
    List<String> near = new ArrayList<>();
    if (below != null) near.add(Txid.format(below));
    if (above != null) near.add(Txid.format(above));
    return ApiException.noTxid(Txid.format(txid) + " is not a restore point"
        + (near.isEmpty() ? "" : "; nearest: " + String.join(", ", near)));
  }

  private static boolean restorable(long txid, TreeSet<Long> local, Map<Integer, List<LtxFileMeta>> listing) {
    if (local.contains(txid)) return true;
    try {
      return SnapshotPlan.calc(listing, txid).endsAt(txid);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The map {@code {"TXID":…,"PostApplyChecksum":…}} of Go's {@code ltx.Pos}. */
  public static Map<String, String> posJson(Pos p) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("TXID", Txid.format(p.txid()));
    m.put("PostApplyChecksum", dev.strata.ltx.Checksum.format(p.postApplyChecksum()));
    return m;
  }
}
