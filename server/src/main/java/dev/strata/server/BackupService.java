package dev.strata.server;

import dev.strata.ltx.LtxException;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.level.MergedLtxFile;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.server.compaction.CompactionJobs;
import dev.strata.server.compaction.DbLocks;
import dev.strata.server.compaction.JobLeases;
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
import java.io.BufferedOutputStream;
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
  private final CompactionJobs jobs;
  private final Path tmpDir;
  private final InstantSource clock;
  private final ServerMetrics metrics;
  private final DbLocks locks;

  public BackupService(MetadataStore store, CompactionJobs jobs, Path tmpDir, InstantSource clock,
      ServerMetrics metrics, DbLocks locks) {
    this.store = store;
    this.jobs = jobs;
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

  /**
   * {@code GET /db/info}: the restore points, or only the first and last. Every point {@code restore} accepts is
   * here: the transactions still in level-0 staging and every restore point of storage, whatever its level.
   */
  public List<RestorePoint> info(String cluster, String name, boolean all) throws IOException {
    DbRow db = store.read(c -> Rows.findDb(c, cluster, name));
    if (db == null) throw ApiException.noDatabase();
    List<RestorePoint> points = restorePoints(db, all);
    if (!all && points.size() == 1) return List.of(points.getFirst(), points.getFirst()); // as litefs-backup
    return points;
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
   * {@code DELETE /db}: removes the database's rows, then its storage objects, holding its lease (a job running on
   * another instance finishes first). The delete is done once the rows are: a crash or a storage error after that
   * leaves the removal of its objects pending, for {@link CompactionJobs#sweepDeletedDatabases} to finish.
   */
  public void delete(String cluster, String name) throws IOException {
    ReentrantLock lock = locks.of(cluster, name);
    lock.lock();
    try (JobLeases.Held held = jobs.leases().acquire(cluster, name)) {
      DbRow db = store.read(c -> Rows.findDb(c, cluster, name));
      if (db == null) throw ApiException.noDatabase();
      store.write(c -> {
        held.lease().check(c);
        Rows.deleteDb(c, db, clock.millis());
        return null;
      });
      jobs.forget(db);
      try {
        jobs.removeStorage(cluster, name);
      } catch (IOException e) {
        // The database is gone for good (its rows are); the pass over deleted databases finishes its storage.
        log.warn("deleted {}/{}; removing its storage failed and is left to the next pass: {}", cluster, name,
            e.getMessage());
      }
    } finally {
      lock.unlock();
    }
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
  //
  // A database can be restored to every transaction still in level-0 staging (built from the metadata database)
  // and to every restore point of its storage (planned by the replica module's RestorePlanner, as for any replica).
  // info, restore --txid and restore --timestamp all see that same set.

  /** The level-0 transactions of a database, oldest first. */
  private List<TxnRow> stagedTxns(DbRow db) throws IOException {
    return store.read(c -> Rows.txnsFrom(c, db.id(), 0));
  }

  /** A planner over the database's catalogue: the files that count, with their header fields (no HEAD requests). */
  private RestorePlanner planner(DbRow db) {
    return new RestorePlanner(jobs.catalogue(db));
  }

  /** Every restore point (staging and storage) in TXID order; or only the first and the last. */
  private List<RestorePoint> restorePoints(DbRow db, boolean all) throws IOException {
    TreeMap<Long, RestorePoint> points = new TreeMap<>(Txid::compare);
    for (TxnRow t : stagedTxns(db)) {
      points.put(t.maxTxid(), new RestorePoint(t.maxTxid(), Instant.ofEpochMilli(t.timestamp()), t.postApplyChecksum()));
    }
    RestorePlanner planner = planner(db);
    for (var p : all ? planner.restorePoints() : planner.firstAndLastRestorePoints()) {
      points.putIfAbsent(p.txid(), new RestorePoint(p.txid(), p.timestamp(), p.postApplyChecksum()));
    }
    if (all || points.size() <= 1) return List.copyOf(points.values());
    return List.of(points.firstEntry().getValue(), points.lastEntry().getValue());
  }

  /** Resolves a restore request to an exact restore point. */
  private Checked resolve(DbRow db, Long txid, Instant timestamp) throws IOException {
    if (timestamp != null) return findByTimestamp(db, timestamp);
    TxnRow local = store.read(c -> Rows.txnByMax(c, db.id(), txid));
    if (local != null) return new Checked(txid, Instant.ofEpochMilli(local.timestamp()));
    RestorePlan plan = storagePlan(db, txid);
    LtxFileMeta last = ReplicaFiles.describe(jobs.catalogue(db), plan.files().getLast());
    return new Checked(txid, Instant.ofEpochMilli(last.timestamp()));
  }

  /**
   * The newest restore point whose timestamp is at or before {@code t}, in staging or storage. (litefs-backup
   * searched only levels 2, 3 and 9, so points of the last five minutes were out of reach.)
   */
  private Checked findByTimestamp(DbRow db, Instant t) throws IOException {
    Checked best = null;
    for (TxnRow row : stagedTxns(db)) {
      if (row.timestamp() <= t.toEpochMilli()) best = new Checked(row.maxTxid(), Instant.ofEpochMilli(row.timestamp()));
    }
    RestorePlanner planner = planner(db);
    if (!planner.files().isEmpty()) {
      try {
        RestorePlan plan = planner.toTimestamp(t);
        if (best == null || Txid.compare(plan.targetTxid(), best.txid()) > 0) {
          LtxFileMeta last = ReplicaFiles.describe(jobs.catalogue(db), plan.files().getLast());
          best = new Checked(plan.targetTxid(), Instant.ofEpochMilli(last.timestamp()));
        }
      } catch (IllegalArgumentException e) {
        // before the first restore point in storage
      }
    }
    if (best == null) throw new ApiException(ErrorCode.ENOTIMESTAMP, "timestamp not available");
    return best;
  }

  /**
   * The snapshot of the state at exactly {@code txid}, built from level 0 when it still holds that transaction,
   * else merged from storage along the planner's plan; an error naming the nearest restore points when
   * {@code txid} is not one.
   */
  SpooledLtx snapshotAt(DbRow db, long txid) throws IOException {
    Path tmp = Files.createTempFile(tmpDir, "snapshot-", ".ltx");
    try {
      boolean local;
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 256 * 1024)) {
        local = store.read(c -> {
          if (Rows.txnByMax(c, db.id(), txid) == null) return false;
          LocalSnapshot.write(c, db.id(), txid, new LtxSnapshotSink(out));
          return true;
        });
      }
      if (!local) {
        RestorePlan plan = storagePlan(db, txid);
        MergedLtxFile.write(jobs.catalogue(db), plan.files(), true, tmp);
      }
      return SpooledLtx.adopt(tmp);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /** A storage plan ending exactly at {@code txid}, or {@code ENOTXID} naming the nearest restore points. */
  private RestorePlan storagePlan(DbRow db, long txid) throws IOException {
    RestorePlanner planner = planner(db);
    if (!planner.files().isEmpty()) {
      try {
        return planner.toTxid(txid);
      } catch (IllegalArgumentException e) {
        // not a file boundary: fall through to the nearest points
      } catch (IOException e) {
        if (planner.files().endingAt(txid).isEmpty()) throw e;
        // a boundary that no plan reaches (a gap): not a restore point
      }
    }
    throw notRestorePoint(db, planner, txid);
  }

  private ApiException notRestorePoint(DbRow db, RestorePlanner planner, long txid) throws IOException {
    TreeSet<Long> points = new TreeSet<>(Txid::compare);
    for (TxnRow t : stagedTxns(db)) points.add(t.maxTxid());
    if (!planner.files().isEmpty()) points.addAll(planner.restorePointTxids());
    List<String> near = new ArrayList<>();
    Long below = points.lower(txid), above = points.higher(txid);
    if (below != null) near.add(Txid.format(below));
    if (above != null) near.add(Txid.format(above));
    return ApiException.noTxid(Txid.format(txid) + " is not a restore point"
        + (near.isEmpty() ? "" : "; nearest: " + String.join(", ", near)));
  }

  /** The map {@code {"TXID":…,"PostApplyChecksum":…}} of Go's {@code ltx.Pos}. */
  public static Map<String, String> posJson(Pos p) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("TXID", Txid.format(p.txid()));
    m.put("PostApplyChecksum", dev.strata.ltx.Checksum.format(p.postApplyChecksum()));
    return m;
  }
}
