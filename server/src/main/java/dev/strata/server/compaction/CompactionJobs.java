package dev.strata.server.compaction;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelCompactor;
import dev.strata.replica.level.LevelConfig;
import dev.strata.server.ServerMetrics;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.server.store.CataloguedReplicaClient;
import dev.strata.server.store.DbRow;
import dev.strata.server.store.Lease;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.Rows;
import dev.strata.server.store.Rows.CompactionRequest;
import dev.strata.server.store.Spool;
import dev.strata.server.store.SqlJob;
import dev.strata.server.store.TxnRow;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One level's job for one database of the server. Level 1 is the server's own: it flushes what level-0 staging
 * accepted since the last flush into one level-1 file and raises the high-water mark. Every level above is the
 * replica module's engine ({@link LevelCompactor}), the same one the agent runs: compaction of level n, then
 * retention of level n−1; for level 9 a snapshot, then retention of every level. The snapshot job runs daily for
 * every database, so that an idle database's files expire too.
 *
 * <p>Each database's storage work is serialized by its {@link DbLocks} lock within this instance and by its
 * {@link JobLeases lease} across instances; an instance that finds the lease held elsewhere leaves the job to the
 * holder. The engine works on the database's {@link CataloguedReplicaClient}: a file counts once its catalogue row
 * is committed under the lease. The metadata database is written only after storage, in short transactions, so
 * uploads from LiteFS never wait on storage. The storage of deleted databases is removed here too.
 */
public final class CompactionJobs {
  private static final Logger log = LoggerFactory.getLogger(CompactionJobs.class);

  private final MetadataStore store;
  private final ReplicaClient root;
  private final LevelConfig levels;
  private final Path tmpDir;
  private final InstantSource clock;
  private final ServerMetrics metrics;
  private final DbLocks locks;
  private final JobLeases leases;
  /**
   * The engines of the databases worked on most recently, each keeping what its storage holds in memory between
   * jobs (a busy database's catalogue is a few MiB: 30 days of 5-minute files), so that memory stays bounded
   * however many databases the server holds; an evicted database is listed again on its next job.
   */
  private final Map<String, LevelCompactor> compactors = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, LevelCompactor> eldest) {
      return size() > CACHED_COMPACTORS;
    }
  };
  private static final int CACHED_COMPACTORS = 32;
  /** The newest TXID each database's storage holds, learnt at its last flush: flushes need no listing. */
  private final ConcurrentHashMap<String, Long> flushedThrough = new ConcurrentHashMap<>();
  /**
   * When each database's level-0 retention last ran. It runs at a flush once a fifth of level 0's retention has
   * passed since (a minute by default), not at every flush: staging then holds at most a fifth more than the window,
   * and most flushes save the four statements it costs.
   */
  private final ConcurrentHashMap<String, Long> level0RetainedAt = new ConcurrentHashMap<>();

  public CompactionJobs(MetadataStore store, ReplicaClient root, LevelConfig levels, Path tmpDir,
      InstantSource clock, ServerMetrics metrics, DbLocks locks, JobLeases leases) {
    this.store = store;
    this.root = root;
    this.levels = levels;
    this.tmpDir = tmpDir;
    this.clock = clock;
    this.metrics = metrics;
    this.locks = locks;
    this.leases = leases;
  }

  /** The storage of one database: {@code <root>/<cluster>/<name>}. */
  public ReplicaClient storage(String cluster, String name) {
    return root.child(cluster).child(name);
  }

  /** The files of a database that count, read only (restore plans, info). */
  public CataloguedReplicaClient catalogue(DbRow db) {
    return new CataloguedReplicaClient(store, storage(db.cluster(), db.name()), db.id());
  }

  private static String key(DbRow db) {
    return db.cluster() + "/" + db.name() + "#" + db.id();
  }

  private LevelCompactor compactor(DbRow db) {
    synchronized (compactors) {
      return compactors.computeIfAbsent(key(db), k -> newCompactor(db));
    }
  }

  private LevelCompactor cachedOrNew(DbRow db) {
    synchronized (compactors) {
      LevelCompactor c = compactors.get(key(db));
      return c != null ? c : newCompactor(db);
    }
  }

  private LevelCompactor newCompactor(DbRow db) {
    return new LevelCompactor(catalogue(db), levels, clock, tmpDir);
  }

  /** The level whose job follows a successful job of {@code level}: n+1, then snapshots, then none (−1). */
  public int next(int level) {
    if (level == Level.SNAPSHOT) return -1;
    return level == levels.topLevel() ? Level.SNAPSHOT : level + 1;
  }

  /**
   * Runs the job a request asks for. Returns false when it has to wait (another instance holds the database's
   * lease or held it since the request was read, or the storage of an earlier database of this name is still being
   * removed); errors are thrown and the request stays. Done, the request is removed (unless renewed meanwhile) in
   * the transaction that releases the lease.
   */
  public boolean run(CompactionRequest r) throws IOException {
    DbRow db = r.db();
    int level = r.level();
    ReentrantLock lock = locks.of(db.cluster(), db.name());
    lock.lock();
    long start = System.nanoTime();
    try (JobLeases.Held held = leases.tryAcquire(db.cluster(), db.name(),
        c -> Rows.jobMayStart(c, db.cluster(), db.name(), r.leaseEpoch(), leases.owner()))) {
      if (held == null) return false;
      if (!held.continuous()) {
        forget(db); // another instance worked on it since: what is cached may be stale
        // Another instance took the lease after the request was read (and before this instance did): it most likely
        // ran this very job a moment ago. Again now, a flush would store a level-1 file of the few transactions
        // since (a storage request, and a file more for every restore to read), for nothing: the request waits for
        // the next boundary instead.
        if (held.lease().epoch() > r.leaseEpoch() + 1) return false;
      }
      Outcome done = runJob(db, level, held.lease());
      int following = next(level);
      try {
        held.closeWith(c -> {
          done.commit().run(c);
          if (done.wrote() && following != -1) Rows.requestCompactionUnderLease(c, db.id(), following);
          Rows.completeCompaction(c, r);
          return null;
        });
      } catch (IOException | RuntimeException e) {
        forget(db); // a flush's file may be stored but not catalogued
        throw e;
      }
      metrics.compaction(level, (System.nanoTime() - start) / 1e9);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * What a job leaves to its last transaction: whether it wrote a file, and the metadata writes that make its work
   * count, committed with the lease's release (fewer transactions per job than committing them apart).
   */
  private record Outcome(boolean wrote, SqlJob<Void> commit) {
    static final Outcome NONE = of(false);

    /** Nothing left to commit but the request's removal. */
    static Outcome of(boolean wrote) {
      return new Outcome(wrote, c -> null);
    }
  }

  /** The storage work of a job under {@code lease}. */
  private Outcome runJob(DbRow db, int level, Lease lease) throws IOException {
    try {
      if (level == 1) return flush(db);
      LevelCompactor compactor = fenced(compactor(db), lease);
      if (level == Level.SNAPSHOT) {
        boolean wrote = compactor.snapshot() != null;
        for (int l = 1; l <= levels.topLevel(); l++) compactor.retain(l);
        compactor.retain(Level.SNAPSHOT);
        CataloguedReplicaClient catalogue = (CataloguedReplicaClient) compactor.client();
        sweep(catalogue.storage(), catalogue, lease);
        return Outcome.of(wrote);
      }
      boolean wrote = !compactor.compact(level).isEmpty();
      compactor.retain(level - 1);
      return Outcome.of(wrote);
    } catch (IOException | RuntimeException e) {
      flushedThrough.remove(key(db)); // what storage holds is uncertain now
      metrics.storageError(level == 1 ? "flush" : level == Level.SNAPSHOT ? "snapshot" : "compact");
      throw e;
    }
  }

  /**
   * Level 0 → level 1: stores everything accepted since the newest TXID in storage as one file. The job's last
   * transaction catalogues it, raises the HWM and applies level-0 retention.
   */
  private Outcome flush(DbRow db) throws IOException {
    String key = key(db);
    Long known = flushedThrough.get(key);
    // A flush needs no listing: a new engine only stores its file, unless one is at hand anyway. Where storage
    // ends is known from the last flush here, else (a start, or another instance flushed since) read from the
    // catalogue in the same transaction: with several instances that is every other flush, and listing every level
    // (30 days of files) for it cost more than the flush.
    LevelCompactor compactor = cachedOrNew(db);
    long[] storedThrough = new long[1];
    try (Spool file = new Spool(tmpDir, "l1-", FLUSH_IN_MEMORY)) {
      TxnRow last = store.read(c -> {
        long prevMax = known != null ? known : Rows.storedThrough(c, db.id());
        storedThrough[0] = prevMax;
        List<TxnRow> txns = Rows.txnsFrom(c, db.id(), prevMax + 1);
        if (txns.isEmpty()) return null;
        TxnRow first = txns.getFirst(), end = txns.getLast();
        if (first.minTxid() != prevMax + 1) {
          throw new IOException("level 0 of " + db.cluster() + "/" + db.name() + " starts at "
              + Txid.format(first.minTxid()) + " but storage ends at " + Txid.format(prevMax));
        }
        LtxHeader h = LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, end.pageSize(), end.commit(), first.minTxid(),
            end.maxTxid(), end.timestamp(), first.preApplyChecksum());
        try (OutputStream out = new BufferedOutputStream(file, 64 * 1024);
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
        file.finish();
        return end;
      });
      long prevMax = storedThrough[0];
      flushedThrough.put(key, last == null ? prevMax : last.maxTxid());
      if (last == null) {
        if (Txid.compare(prevMax, db.hwm()) <= 0) return Outcome.NONE;
        // A flush stored its file but did not record it (a crash in between, in an older version): record it now.
        return new Outcome(true, c -> {
          Rows.raiseHwm(c, db.id(), prevMax);
          return null;
        });
      }
      CataloguedReplicaClient catalogue = (CataloguedReplicaClient) compactor.client();
      LtxFileInfo info;
      try (InputStream in = file.open()) {
        info = LtxDecoder.verify(in); // what was encoded reads back whole before it is stored
      }
      LtxFileMeta stored;
      try (InputStream in = file.open()) {
        stored = catalogue.storeObject(1, info, in, file.size());
      }
      compactor.noteWritten(stored); // forgotten with the compactor if the commit fails
      log.debug("stored {} level 1 {}", catalogue.location(), stored.fileName());
      long now = clock.millis(), window = levels.level(0).retention().toMillis(), period = Math.max(1, window / 5);
      Long retainedAt = level0RetainedAt.get(key);
      boolean retain = retainedAt == null || now - retainedAt >= period;
      // The first time, it is noted as having run up to a period earlier, by an offset of the database's own:
      // databases first flushed together (at a start) then take their turns through the period, not all at once.
      if (retain) level0RetainedAt.put(key, retainedAt == null ? now - Math.floorMod(key.hashCode(), period) : now);
      return new Outcome(true, c -> {
        catalogue.catalogue(c, stored);
        if (retain) Rows.enforceLevel0Retention(c, db.id(), last.maxTxid(), now - window);
        // The database's row last, as uploads take it first: held briefly, and always before the request's row.
        Rows.raiseHwm(c, db.id(), last.maxTxid());
        return null;
      });
    }
  }

  /** Level-1 files up to this size are built in memory, larger ones in a temporary file. */
  private static final int FLUSH_IN_MEMORY = 1 << 20;

  private static LevelCompactor fenced(LevelCompactor compactor, Lease lease) {
    ((CataloguedReplicaClient) compactor.client()).fence(lease);
    return compactor;
  }

  /**
   * Deletes the objects of a database's storage that its catalogue does not hold (null: none counts, the database
   * was deleted) and that are older than {@link #ORPHAN_AGE}: written by a job that crashed or lost its lease before
   * cataloguing them. (Younger ones may belong to a job on another instance that is about to catalogue them.) The
   * lease is checked just before each deletion, so that a sweep that paused past its lease stops. Returns how many
   * objects are left.
   */
  private int sweep(ReplicaClient storage, CataloguedReplicaClient catalogue, Lease lease) throws IOException {
    // Names and times are all a sweep needs: the objects themselves, undecrypted.
    ReplicaClient objects = AgeReplicaClient.unwrap(storage);
    Instant cutoff = Instant.now().minus(ORPHAN_AGE);
    int left = 0;
    for (int level = 1; level <= ReplicaClient.MAX_LEVEL; level++) {
      Set<TxidRange> known = new HashSet<>();
      if (catalogue != null) {
        for (LtxFileMeta f : catalogue.listFiles(level)) known.add(f.range());
      }
      List<TxidRange> orphans = new ArrayList<>();
      for (LtxFileMeta f : objects.listFiles(level)) {
        if (!known.contains(f.range()) && f.createdAt() != null && f.createdAt().isBefore(cutoff)) {
          orphans.add(f.range());
        } else {
          left++;
        }
      }
      if (orphans.isEmpty()) continue;
      store.write(c -> {
        lease.check(c);
        return null;
      });
      objects.deleteFiles(level, orphans);
      log.info("{}: swept {} uncatalogued file(s) of level {}", objects.location(), orphans.size(), level);
    }
    return left;
  }

  /** Objects younger than this are never swept. */
  static final Duration ORPHAN_AGE = Duration.ofHours(1);

  /**
   * Deletes every object of a deleted database's storage, then records its removal. The caller holds the database's
   * lease; a failure leaves the removal pending, for {@link #sweepDeletedDatabases} to finish.
   */
  public void removeStorage(String cluster, String name) throws IOException {
    ReplicaClient r = storage(cluster, name);
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

  /** The lease of the pass over deleted databases: no cluster is named "*", so it is no database's lease. */
  private static final String PASS_CLUSTER = "*", PASS_NAME = "deleted-databases";

  /** How long a deleted database's storage is watched for objects that jobs running at its deletion still wrote. */
  static final Duration DELETED_WATCHED = Duration.ofDays(1);

  /**
   * The pass over deleted databases, at start and every hour, by one instance at a time: finishes the removal of
   * their storage when a crash or a storage error cut a {@code DELETE} short, then sweeps what jobs still wrote there
   * (a job that lost its lease to the {@code DELETE} has its commit refused, but its object is stored) once it is
   * older than {@link #ORPHAN_AGE}. A deleted database is forgotten once its storage is found empty a day after its
   * deletion, or once a database of that name exists again (whose snapshot job sweeps the same storage).
   *
   * <p>Only the storage of databases deleted here is swept, never a prefix merely because the metadata does not
   * know it: that may be another system's, such as a litefs-backup bucket not yet imported.
   */
  public void sweepDeletedDatabases() throws IOException {
    try (JobLeases.Held pass = leases.tryAcquire(PASS_CLUSTER, PASS_NAME)) {
      if (pass == null) return; // another instance is at it
      for (Rows.Deletion d : store.read(Rows::deletions)) {
        try {
          sweepDeleted(d.cluster(), d.name());
        } catch (IOException | RuntimeException e) {
          log.error("storage of deleted database {}/{}: {}", d.cluster(), d.name(), e.getMessage());
        }
      }
    }
  }

  private void sweepDeleted(String cluster, String name) throws IOException {
    ReentrantLock lock = locks.of(cluster, name);
    lock.lock();
    try (JobLeases.Held held = leases.tryAcquire(cluster, name)) {
      if (held == null) return; // a job or a DELETE of that name is under way: next time
      // Read again under the lease: another instance may have finished or forgotten it since the list was read.
      Rows.Deletion d = store.read(c -> Rows.deletion(c, cluster, name));
      if (d == null) return;
      if (!d.removed()) {
        removeStorage(cluster, name);
        log.info("finished removing the storage of deleted database {}/{}", cluster, name);
      } else if (store.read(c -> Rows.findDb(c, cluster, name)) != null) {
        forgetDeletion(cluster, name);
      } else if (sweep(storage(cluster, name), null, held.lease()) == 0
          && d.deletedAt() < clock.millis() - DELETED_WATCHED.toMillis()) {
        forgetDeletion(cluster, name);
      }
    } finally {
      lock.unlock();
    }
  }

  private void forgetDeletion(String cluster, String name) throws IOException {
    store.write(c -> {
      Rows.forgetDeletion(c, cluster, name);
      return null;
    });
  }

  /**
   * Catalogues the storage of databases from before the catalogue (a data directory of an older version): every
   * file in storage counts, as it did then. Run once at start.
   */
  public void catalogueOlderDatabases() throws IOException {
    for (DbRow db : store.read(Rows::uncatalogued)) {
      try (JobLeases.Held held = leases.acquire(db.cluster(), db.name())) {
        ReplicaClient storage = storage(db.cluster(), db.name());
        int files = 0;
        for (int level = 1; level <= ReplicaClient.MAX_LEVEL; level++) {
          List<LtxFileMeta> listed = ReplicaFiles.describeAll(storage, storage.listFiles(level));
          files += listed.size();
          store.write(c -> {
            held.lease().check(c);
            for (LtxFileMeta f : listed) Rows.insertFile(c, db.id(), f);
            return null;
          });
        }
        store.write(c -> {
          held.lease().check(c);
          Rows.markCatalogued(c, db.id());
          return null;
        });
        log.info("catalogued {} storage file(s) of {}/{}", files, db.cluster(), db.name());
      }
    }
  }

  /** The leases of this instance. */
  public JobLeases leases() {
    return leases;
  }

  /** Forgets what is cached of a database's storage (after it is deleted, or worked on by another instance). */
  public void forget(DbRow db) {
    flushedThrough.remove(key(db));
    synchronized (compactors) {
      compactors.remove(key(db));
    }
  }
}
