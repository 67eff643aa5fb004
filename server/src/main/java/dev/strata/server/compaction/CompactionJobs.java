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
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
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
    if (r.level() == 1) {
      Flush f = flushes(List.of(r)).getFirst();
      if (f.error != null) throw f.error;
      return f.done;
    }
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
      boolean wrote = runJob(db, level, held.lease());
      int following = next(level);
      try {
        held.closeWith(c -> {
          if (wrote && following != -1) Rows.requestCompactionUnderLease(c, db.id(), following);
          Rows.completeCompaction(c, r);
          return null;
        });
      } catch (IOException | RuntimeException e) {
        forget(db); // its file may be stored but not catalogued
        throw e;
      }
      metrics.compaction(level, (System.nanoTime() - start) / 1e9);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** The storage work of a job under {@code lease}; whether it wrote a file. */
  private boolean runJob(DbRow db, int level, Lease lease) throws IOException {
    try {
      LevelCompactor compactor = fenced(compactor(db), lease);
      if (level == Level.SNAPSHOT) {
        boolean wrote = compactor.snapshot() != null;
        for (int l = 1; l <= levels.topLevel(); l++) compactor.retain(l);
        compactor.retain(Level.SNAPSHOT);
        CataloguedReplicaClient catalogue = (CataloguedReplicaClient) compactor.client();
        sweep(catalogue.storage(), catalogue, lease);
        return wrote;
      }
      boolean wrote = !compactor.compact(level).isEmpty();
      compactor.retain(level - 1);
      return wrote;
    } catch (IOException | RuntimeException e) {
      flushedThrough.remove(key(db)); // what storage holds is uncertain now
      metrics.storageError(level == Level.SNAPSHOT ? "snapshot" : "compact");
      throw e;
    }
  }

  /** The most level-1 requests one {@link #flush} takes. */
  public static final int FLUSH_BATCH = 16;

  /**
   * Level 0 → level 1 for several databases at once (at most {@link #FLUSH_BATCH} level-1 requests): for each, what
   * level 0 accepted since the newest TXID in storage becomes one level-1 file, catalogued with the HWM raised. Three
   * transactions for the whole batch, where a database alone took three: the leases taken, the pages read, and the
   * files recorded with the leases released. A database whose lease another instance holds (or took since its
   * request was read), or whose storage work this instance is doing already, waits for the next tick; one whose flush
   * fails is logged and waits too, without failing the others. Returns how many flushed.
   *
   * <p>Why batches: with a thousand databases a server flushes a hundred a second, and every transaction is a few
   * round trips to the metadata database and, when it writes, a commit; on PostgreSQL shared by several instances
   * those cost as much as the uploads themselves (`bin/bench-server --litefs`).
   */
  public int flush(List<CompactionRequest> requests) throws IOException {
    int done = 0;
    for (Flush f : flushes(requests)) {
      if (f.error != null) {
        log.error("compaction L1 {}/{}: {}", f.db.cluster(), f.db.name(), f.error.getMessage());
      } else if (f.done) {
        done++;
      }
    }
    return done;
  }

  /** The flushes of a batch, each done, left for later, or failed with its error. */
  private List<Flush> flushes(List<CompactionRequest> requests) throws IOException {
    List<Flush> batch = new ArrayList<>();
    for (CompactionRequest r : requests) {
      if (r.level() != 1) throw new IllegalArgumentException("not a level-1 request: L" + r.level());
      batch.add(new Flush(r));
    }
    // Leases in name order (see JobLeases#tryAcquireAll); databases' rows, last, in id order as uploads lock them.
    List<Flush> byName = new ArrayList<>(batch);
    byName.sort(Comparator.comparing((Flush f) -> f.db.cluster()).thenComparing(f -> f.db.name()));
    List<Flush> locked = new ArrayList<>();
    try {
      for (Flush f : byName) {
        if (f.lock.tryLock()) locked.add(f); // else a job on it runs here: the request waits for the next tick
      }
      if (locked.isEmpty()) return batch;
      List<JobLeases.Held> held = leases.tryAcquireAll(locked.stream().map(f -> new JobLeases.Wanted(
          f.db.cluster(), f.db.name(), c -> Rows.jobMayStart(c, f.db.cluster(), f.db.name(), f.request.leaseEpoch(),
              leases.owner()))).toList());
      List<Flush> running = new ArrayList<>();
      for (int i = 0; i < locked.size(); i++) {
        Flush f = locked.get(i);
        f.held = held.get(i);
        if (f.held == null) continue;
        if (!f.held.continuous()) {
          forget(f.db); // another instance worked on it since: what is cached may be stale
          // Another instance took the lease after the request was read (and before this instance did): it most
          // likely flushed a moment ago. Again now, a flush would store a level-1 file of the few transactions since
          // (a storage request, and a file more for every restore to read), for nothing: it waits for the next tick.
          if (f.held.lease().epoch() > f.request.leaseEpoch() + 1) continue;
        }
        running.add(f);
      }
      if (!running.isEmpty()) runFlushes(running);
    } finally {
      for (Flush f : locked) {
        if (f.held != null) f.held.close();
        f.lock.unlock();
      }
    }
    return batch;
  }

  /** Flushes databases whose leases are held: reads, stores and records them. */
  private void runFlushes(List<Flush> running) throws IOException {
    try {
      runFlushes(running, System.nanoTime());
    } finally {
      for (Flush f : running) f.discard();
    }
  }

  private void runFlushes(List<Flush> running, long start) throws IOException {
    store.read(c -> {
      for (Flush f : running) {
        try {
          f.read(c);
        } catch (IOException e) { // this database's level 0 does not follow its storage: it alone fails
          f.fail(e);
        }
      }
      return null;
    });
    for (Flush f : running) {
      if (f.error != null) continue;
      try {
        f.store();
      } catch (IOException | RuntimeException e) {
        metrics.storageError("flush");
        f.fail(e instanceof IOException io ? io : new IOException(e.getMessage(), e));
      }
    }
    List<Flush> recording = running.stream().filter(f -> f.error == null).toList();
    if (recording.isEmpty()) return;
    List<Flush> kept = new ArrayList<>();
    try {
      store.write(c -> {
        kept.clear(); // a retried transaction starts over
        for (Flush f : recording) {
          if (f.held.finishIn(c)) kept.add(f);
        }
        for (Flush f : kept) f.record(c);
        List<Flush> byId = new ArrayList<>(kept);
        byId.sort(Comparator.comparingLong(f -> f.db.id()));
        for (Flush f : byId) f.complete(c);
        return null;
      });
    } catch (IOException | RuntimeException e) {
      for (Flush f : recording) forget(f.db); // their files may be stored but not catalogued
      throw e;
    }
    double seconds = (System.nanoTime() - start) / 1e9 / running.size();
    for (Flush f : recording) {
      if (kept.contains(f)) {
        f.held.finished();
        f.done = true;
        metrics.compaction(1, seconds);
      } else {
        forget(f.db); // its file is stored but not catalogued: the sweep removes it
        f.error = new Lease.LostException(f.held.lease());
      }
    }
  }

  /** One database's flush in a batch: what it read, stored and has to record. */
  private final class Flush {
    final CompactionRequest request;
    final DbRow db;
    final String key;
    final ReentrantLock lock;
    JobLeases.Held held;
    boolean done;
    IOException error;
    /** The newest TXID in storage before this flush, and the newest transaction of level 0 (null: none since). */
    private long storedThrough;
    private TxnRow last;
    private Spool file;
    private LtxFileMeta stored;
    private boolean retain;
    private long now;

    Flush(CompactionRequest request) {
      this.request = request;
      this.db = request.db();
      this.key = key(db);
      this.lock = locks.of(db.cluster(), db.name());
    }

    /** Drops the file read and not stored (a failure of the batch's read transaction, or of another's store). */
    void discard() throws IOException {
      if (file != null) file.close();
      file = null;
    }

    void fail(IOException e) {
      error = e;
      flushedThrough.remove(key); // what storage holds is uncertain now
    }

    /**
     * Encodes everything level 0 accepted since the newest TXID in storage into one LTX file. Where storage ends is
     * known from the last flush here, else (a start, or another instance flushed since) read from the catalogue in
     * the same transaction: with several instances that is every other flush, and listing every level (30 days of
     * files) for it cost more than the flush.
     */
    void read(Connection c) throws SQLException, IOException {
      if (file != null) file.close(); // a transaction run again
      file = null;
      last = null;
      Long known = flushedThrough.get(key);
      storedThrough = known != null ? known : Rows.storedThrough(c, db.id());
      List<TxnRow> txns = Rows.txnsFrom(c, db.id(), storedThrough + 1);
      if (txns.isEmpty()) {
        flushedThrough.put(key, storedThrough);
        return;
      }
      TxnRow first = txns.getFirst(), end = txns.getLast();
      if (first.minTxid() != storedThrough + 1) {
        throw new IOException("level 0 of " + db.cluster() + "/" + db.name() + " starts at "
            + Txid.format(first.minTxid()) + " but storage ends at " + Txid.format(storedThrough));
      }
      LtxHeader h = LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, end.pageSize(), end.commit(), first.minTxid(),
          end.maxTxid(), end.timestamp(), first.preApplyChecksum());
      Spool spool = new Spool(tmpDir, "l1-", FLUSH_IN_MEMORY);
      try (OutputStream out = new BufferedOutputStream(spool, 64 * 1024);
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
      } catch (IOException | SQLException | RuntimeException e) {
        spool.close();
        throw e;
      }
      spool.finish();
      file = spool;
      last = end;
      flushedThrough.put(key, end.maxTxid());
    }

    /** Stores the file read, once it decodes whole; the engine notes it (forgotten with it if the commit fails). */
    void store() throws IOException {
      if (last == null) return;
      LevelCompactor compactor = cachedOrNew(db); // a new engine only stores: no listing for a flush
      CataloguedReplicaClient catalogue = (CataloguedReplicaClient) compactor.client();
      try (Spool f = file) {
        file = null;
        LtxFileInfo info;
        try (InputStream in = f.open()) {
          info = LtxDecoder.verify(in); // what was encoded reads back whole before it is stored
        }
        try (InputStream in = f.open()) {
          stored = catalogue.storeObject(1, info, in, f.size());
        }
      }
      compactor.noteWritten(stored);
      log.debug("stored {} level 1 {}", catalogue.location(), stored.fileName());
      now = clock.millis();
      long period = Math.max(1, levels.level(0).retention().toMillis() / 5);
      Long retainedAt = level0RetainedAt.get(key);
      retain = retainedAt == null || now - retainedAt >= period;
      // The first time, it is noted as having run up to a period earlier, by an offset of the database's own:
      // databases first flushed together (at a start) then take their turns through the period, not all at once.
      if (retain) level0RetainedAt.put(key, retainedAt == null ? now - Math.floorMod(key.hashCode(), period) : now);
    }

    /** The file's catalogue row, level-0 retention and the next level's request. */
    void record(Connection c) throws SQLException {
      if (stored == null) return;
      Rows.insertFile(c, db.id(), stored);
      if (retain) {
        Rows.enforceLevel0Retention(c, db.id(), last.maxTxid(), now - levels.level(0).retention().toMillis());
      }
      int following = next(1);
      if (following != -1) Rows.requestCompactionUnderLease(c, db.id(), following);
    }

    /**
     * The database's HWM raised to what storage holds now, then the request's removal: last in the transaction, and
     * in that order, as uploads take the database's row first and its level-1 request's row after (held briefly,
     * never the other way round). Without a file, a flush that stored its file but did not record it (a crash in
     * between, in an older version) is recorded now.
     */
    void complete(Connection c) throws SQLException {
      long through = stored != null ? last.maxTxid() : storedThrough;
      if (Txid.compare(through, db.hwm()) > 0) Rows.raiseHwm(c, db.id(), through);
      Rows.completeCompaction(c, request);
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
