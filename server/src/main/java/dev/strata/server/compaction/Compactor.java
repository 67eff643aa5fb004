package dev.strata.server.compaction;

import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.server.Levels;
import dev.strata.server.ServerMetrics;
import dev.strata.server.store.DbRow;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.Rows;
import dev.strata.server.store.TxnRow;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a database's data up the levels (spec §4.4–4.5): flushes level 0 to a level-1 file, compacts level n−1
 * into level n, writes daily snapshots to level 9, and applies retention after each. Files are built in a
 * temporary file, verified, then uploaded; the metadata database is only written afterwards, in a short
 * transaction, so uploads from LiteFS never wait on storage. Each database's storage work is serialized by its
 * {@link DbLocks} lock.
 */
public final class Compactor {
  private static final Logger log = LoggerFactory.getLogger(Compactor.class);

  private final MetadataStore store;
  private final ReplicaClient root;
  private final Levels levels;
  private final Path tmpDir;
  private final InstantSource clock;
  private final ServerMetrics metrics;
  private final DbLocks locks;
  /** Newest MaxTXID in level 1 per database id; saves a listing per flush. Dropped on any storage error. */
  private final ConcurrentHashMap<Long, Long> level1Max = new ConcurrentHashMap<>();

  public Compactor(MetadataStore store, ReplicaClient root, Levels levels, Path tmpDir, InstantSource clock,
      ServerMetrics metrics, DbLocks locks) {
    this.store = store;
    this.root = root;
    this.levels = levels;
    this.tmpDir = tmpDir;
    this.clock = clock;
    this.metrics = metrics;
    this.locks = locks;
  }

  /** The storage of one database. */
  public ReplicaClient storage(String cluster, String name) {
    return root.child(cluster).child(name);
  }

  /** Runs the work of {@code level} for a database: flush (1), compaction (2..max) or snapshot (9). */
  public Outcome run(DbRow db, int level) throws IOException {
    ReentrantLock lock = locks.of(db.cluster(), db.name());
    lock.lock();
    long start = System.nanoTime();
    try {
      if (store.read(c -> Rows.deletionPending(c, db.cluster(), db.name()))) {
        return Outcome.PARTIAL; // an earlier database of this name is still being removed from storage
      }
      Outcome o = level == 1 ? flush(db) : level == Levels.SNAPSHOT ? snapshot(db) : compact(db, level);
      metrics.compaction(level, (System.nanoTime() - start) / 1e9);
      return o;
    } catch (IOException | RuntimeException e) {
      level1Max.remove(db.id());
      metrics.storageError(level == 1 ? "flush" : level == Levels.SNAPSHOT ? "snapshot" : "compact");
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /** Level 0 → level 1: everything accepted since the last flush, as one file; then raises the HWM. */
  private Outcome flush(DbRow db) throws IOException {
    ReplicaClient r = storage(db.cluster(), db.name());
    Long cached = level1Max.get(db.id());
    long prevMax = cached != null ? cached : lastMax(r.listFiles(1));
    Path tmp = Files.createTempFile(tmpDir, "l1-", ".ltx");
    try {
      TxnRow last = store.read(c -> {
        List<TxnRow> txns = Rows.txnsFrom(c, db.id(), prevMax + 1);
        if (txns.isEmpty()) return null;
        TxnRow first = txns.getFirst(), end = txns.getLast();
        if (first.minTxid() != prevMax + 1) {
          throw new IOException("level 0 of " + db.cluster() + "/" + db.name() + " starts at "
              + Txid.format(first.minTxid()) + " but level 1 ends at " + Txid.format(prevMax));
        }
        LtxHeader h = LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, end.pageSize(), end.commit(), first.minTxid(),
            end.maxTxid(), end.timestamp(), first.preApplyChecksum());
        try (OutputStream out = Files.newOutputStream(tmp);
            PreparedStatement ps = c.prepareStatement("SELECT pgno, data FROM pages WHERE db_id = ?"
                + " AND min_txid >= ? AND max_txid <= ? AND pgno <= ? ORDER BY pgno, max_txid DESC")) {
          LtxEncoder enc = new LtxEncoder(out, h);
          ps.setLong(1, db.id());
          ps.setLong(2, first.minTxid());
          ps.setLong(3, end.maxTxid());
          ps.setLong(4, Integer.toUnsignedLong(end.commit()));
          try (ResultSet rs = ps.executeQuery()) {
            long lastPgno = 0;
            while (rs.next()) {
              long pgno = rs.getLong(1);
              if (pgno == lastPgno || pgno == h.lockPgno()) continue;
              lastPgno = pgno;
              enc.encodePage((int) pgno, rs.getBytes(2));
            }
          }
          enc.finish(end.postApplyChecksum());
        }
        return end;
      });
      if (last == null) {
        if (prevMax > db.hwm()) {
          // A flush uploaded but did not record itself (a crash in between): record it now.
          store.write(c -> {
            Rows.raiseHwm(c, db.id(), prevMax);
            Rows.requestCompaction(c, db.id(), 2);
            return null;
          });
        }
        return Outcome.NOTHING;
      }
      upload(r, 1, tmp);
      level1Max.put(db.id(), last.maxTxid());
      long cutoff = clock.millis() - levels.retention(0).toMillis();
      store.write(c -> {
        Rows.raiseHwm(c, db.id(), last.maxTxid());
        Rows.enforceLevel0Retention(c, db.id(), last.maxTxid(), cutoff);
        Rows.requestCompaction(c, db.id(), 2);
        return null;
      });
      return Outcome.DONE;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Level n−1 → level n (n ≥ 2): up to 100 new files merged into one; then retention on level n−1. */
  private Outcome compact(DbRow db, int level) throws IOException {
    ReplicaClient r = storage(db.cluster(), db.name());
    long prevMax = lastMax(r.listFiles(level));
    List<LtxFileMeta> sources = r.listFiles(level - 1).stream()
        .filter(f -> Long.compareUnsigned(f.minTxid(), prevMax) > 0).toList();
    if (sources.isEmpty()) return Outcome.NOTHING;
    boolean partial = sources.size() > Levels.MAX_COMPACTION_FILES;
    if (partial) sources = sources.subList(0, Levels.MAX_COMPACTION_FILES);
    if (prevMax != 0 && sources.getFirst().minTxid() != prevMax + 1) {
      throw new IOException("level " + (level - 1) + " of " + db.cluster() + "/" + db.name() + " continues at "
          + sources.getFirst().range() + " but level " + level + " ends at " + Txid.format(prevMax));
    }
    merge(r, sources, level);
    Retention.enforce(r, level - 1, sources.getLast().minTxid(), levels.retention(level - 1), clock.instant());
    store.write(c -> {
      Rows.requestCompaction(c, db.id(), levels.next(level));
      return null;
    });
    return partial ? Outcome.PARTIAL : Outcome.DONE;
  }

  /** A full snapshot at the newest TXID of the highest level, into level 9; then snapshot retention. */
  private Outcome snapshot(DbRow db) throws IOException {
    ReplicaClient r = storage(db.cluster(), db.name());
    long maxTxid = lastMax(r.listFiles(levels.maxLevel()));
    if (maxTxid == 0) return Outcome.NOTHING;
    Map<Integer, List<LtxFileMeta>> listing = listAll(r);
    List<LtxFileMeta> snapshots = listing.getOrDefault(Levels.SNAPSHOT, List.of());
    if (!snapshots.isEmpty() && snapshots.getLast().maxTxid() == maxTxid) return Outcome.NOTHING;
    SnapshotPlan plan = SnapshotPlan.calc(listing, maxTxid);
    merge(r, plan.files(), Levels.SNAPSHOT);
    Retention.enforceSnapshots(r, Levels.SNAPSHOT, levels.snapshotRetention(), clock.instant());
    return Outcome.DONE;
  }

  /** Listings of every level in use (1..max and 9), for planning. */
  public Map<Integer, List<LtxFileMeta>> listAll(ReplicaClient r) throws IOException {
    Map<Integer, List<LtxFileMeta>> out = new TreeMap<>();
    for (int l = 1; l <= levels.maxLevel(); l++) out.put(l, r.listFiles(l));
    out.put(Levels.SNAPSHOT, r.listFiles(Levels.SNAPSHOT));
    return out;
  }

  /** Merges {@code inputs} into one verified file and uploads it to {@code level}. */
  private void merge(ReplicaClient r, List<LtxFileMeta> inputs, int level) throws IOException {
    Path tmp = Files.createTempFile(tmpDir, "compact-", ".ltx");
    try {
      List<InputStream> streams = RemoteFiles.openAll(r, inputs);
      try (OutputStream out = Files.newOutputStream(tmp)) {
        LtxCompactor.lz4().compact(streams, out);
      }
      upload(r, level, tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Verifies a built file end to end, then stores it. */
  private static void upload(ReplicaClient r, int level, Path file) throws IOException {
    LtxFileInfo info;
    try (InputStream in = Files.newInputStream(file)) {
      info = LtxDecoder.verify(in);
    }
    try (InputStream in = Files.newInputStream(file)) {
      r.writeFile(level, info, in, Files.size(file));
    }
    log.debug("stored {} level {} {}", r.location(), level,
        LtxFileName.format(info.header().minTxid(), info.header().maxTxid()));
  }

  private static long lastMax(List<LtxFileMeta> files) {
    return files.isEmpty() ? 0 : files.getLast().maxTxid();
  }

  /** Forgets cached storage state of a database (after it is deleted). */
  public void forget(long dbId) {
    level1Max.remove(dbId);
  }
}
