package dev.strata.server.store;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Uploads from LiteFS on PostgreSQL, written several to a transaction when they arrive together. Each upload alone
 * costs PostgreSQL two statements and a commit, and most of that is the statement's and the transaction's own
 * work, not the upload's; under load (a thousand databases each uploading every second) that overhead is most of
 * PostgreSQL's CPU. Uploads queue here, and a few runner threads each take what has queued (up to
 * {@link #MAX_BATCH}, one upload per database) into one transaction: one statement locks the databases (in id
 * order, so that batches of several instances never deadlock), one looks up every upload's position and stored
 * pages, the checks run as for one upload, and one statement writes every accepted upload's pages, transaction and
 * level-1 request, sent with the {@code COMMIT}. An upload refused by its checks fails alone; the others commit.
 * A batch of one is written as a single upload is ({@link AppendTx#run}); so is an upload whose database does not
 * exist yet (it is created by its own transaction), or whose database another transaction holds, after the batch.
 */
final class UploadBatches implements AutoCloseable {
  /** Uploads in one transaction at most: enough to share the overhead, few enough to hold few locks briefly. */
  static final int MAX_BATCH = 32;

  /** Runs a write transaction with the store's retries and error translation. */
  interface Transactions {
    <T> T write(SqlJob<T> job) throws IOException;
  }

  private record Waiting(AppendTx upload, CompletableFuture<AppendTx.Result> done) {}

  private final Transactions transactions;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition queued = lock.newCondition();
  private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
  private final List<Thread> runners = new ArrayList<>();
  private boolean closed;

  /** Starts {@code runners} runner threads: at most that many batches (and connections) at a time. */
  UploadBatches(Transactions transactions, int runners) {
    this.transactions = transactions;
    for (int i = 0; i < runners; i++) {
      this.runners.add(Thread.ofVirtual().name("strata-upload-batch-" + i).start(this::run));
    }
  }

  /** Writes an upload ({@link AppendTx#batchable}) with whatever else is waiting; returns once it is committed. */
  AppendTx.Result append(AppendTx upload) throws IOException {
    Waiting w = new Waiting(upload, new CompletableFuture<>());
    lock.lock();
    try {
      if (closed) throw new ApiException(ErrorCode.EUNAVAILABLE, "server is shutting down");
      queue.add(w);
      queued.signal();
    } finally {
      lock.unlock();
    }
    try {
      return w.done().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for the upload's commit");
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case IOException io -> throw io;
        case RuntimeException r -> throw r;
        case Error err -> throw err;
        default -> throw new IOException(e.getCause());
      }
    }
  }

  private void run() {
    while (true) {
      List<Waiting> batch = take();
      if (batch == null) return;
      write(batch);
    }
  }

  /** The next batch: the oldest uploads, one per database (a second one waits for the next); null once closed. */
  private List<Waiting> take() {
    lock.lock();
    try {
      while (queue.isEmpty()) {
        if (closed) return null;
        queued.awaitUninterruptibly();
      }
      List<Waiting> batch = new ArrayList<>();
      Set<String> dbs = new HashSet<>();
      for (Iterator<Waiting> it = queue.iterator(); it.hasNext() && batch.size() < MAX_BATCH; ) {
        Waiting w = it.next();
        if (dbs.add(w.upload().cluster() + '\0' + w.upload().name())) {
          batch.add(w);
          it.remove();
        }
      }
      if (!queue.isEmpty()) queued.signal(); // another runner may take the rest
      return batch;
    } finally {
      lock.unlock();
    }
  }

  private void write(List<Waiting> batch) {
    if (batch.size() == 1) {
      alone(batch.getFirst());
      return;
    }
    Batch job = new Batch(batch.stream().map(Waiting::upload).toList());
    try {
      transactions.write(job);
    } catch (ApiException e) {
      if (e.code() == ErrorCode.EUNAVAILABLE) {
        for (Waiting w : batch) w.done().completeExceptionally(e);
        return;
      }
      for (Waiting w : batch) alone(w); // each finds its own answer
      return;
    } catch (IOException | RuntimeException e) {
      for (Waiting w : batch) alone(w);
      return;
    }
    List<Waiting> left = new ArrayList<>(); // no database yet, or its row held by another transaction
    for (int i = 0; i < batch.size(); i++) {
      Object outcome = job.outcomes[i];
      Waiting w = batch.get(i);
      switch (outcome) {
        case AppendTx.Result r -> w.done().complete(r);
        case Throwable t -> w.done().completeExceptionally(t);
        case null, default -> left.add(w);
      }
    }
    for (Waiting w : left) alone(w); // once every committed upload has its answer: these may wait for a row
  }

  /** Writes one upload in a transaction of its own. */
  private void alone(Waiting w) {
    try {
      w.done().complete(transactions.write(w.upload()));
    } catch (Throwable t) {
      w.done().completeExceptionally(t);
    }
  }

  /** Stops the runners once the queue is empty. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      queued.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread t : runners) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * One transaction for several uploads to distinct databases. {@link #outcomes} holds, per upload, its result, the
   * exception that refused it, or null when its database does not exist or another transaction holds its row (the
   * caller writes it alone). Run again from the start when the store retries the transaction.
   */
  static final class Batch implements SqlJob<Void> {
    /** The uploads' databases, given as (cluster, name, upload's index) arrays. */
    private static final String NAMED = "unnest(?::text[], ?::text[], ?::int[]) AS r (cluster, name, i)"
        + " JOIN databases d ON d.cluster = r.cluster AND d.name = r.name";
    /**
     * Locks the databases that no other transaction holds, and only those: an upload whose database another
     * transaction holds (the other instance's batch with that database's next upload, a flush raising its HWM) is
     * left out and written alone after the batch, waiting there for its row. A batch that waited instead held its
     * other rows meanwhile, and the batches and flushes needing those waited in turn: queues of ten transactions
     * behind one, in PostgreSQL's log of two instances at load. In id order, as every transaction takes these rows.
     */
    private static final String LOCK = "SELECT d.id, d.cluster, d.name, d.hwm, r.i FROM " + NAMED
        + " ORDER BY d.id FOR NO KEY UPDATE OF d SKIP LOCKED";
    /**
     * As {@link Pages}' lookup of one upload, for each upload: its database's newest transaction and the newest
     * stored version of each of its pages (given as (upload's index, page number, checksum) arrays).
     */
    private static final String LOOK_UP = "SELECT latest.*, u.pgno, p.chksum, CASE WHEN p.chksum = u.chksum THEN"
        + " p.data END, r.i FROM " + NAMED
        + " LEFT JOIN LATERAL (SELECT " + Rows.TXN_COLUMNS + " FROM txns WHERE db_id = d.id"
        + " ORDER BY max_txid DESC LIMIT 1) latest ON true"
        + " LEFT JOIN LATERAL (SELECT x.pgno, x.chksum FROM unnest(?::int[], ?::bigint[], ?::bigint[])"
        + " AS x (i, pgno, chksum) WHERE x.i = r.i) u ON true"
        + " LEFT JOIN LATERAL (SELECT chksum, data FROM pages WHERE db_id = d.id AND pgno = u.pgno"
        + " ORDER BY max_txid DESC LIMIT 1) p ON true";
    private static final String WRITE = "WITH new_pages AS (INSERT INTO pages (db_id, pgno, min_txid, max_txid,"
        + " chksum, data) SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[],"
        + " ?::bytea[])), new_txns AS (INSERT INTO txns (db_id, " + Rows.TXN_COLUMNS + ") SELECT * FROM"
        + " unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::int[], ?::bigint[], ?::bigint[], ?::bigint[],"
        + " ?::bigint[], ?::bigint[])) INSERT INTO compaction_requests (db_id, level, idempotency_key)"
        + " SELECT * FROM unnest(?::bigint[], ?::int[], ?::bigint[]) ON CONFLICT (db_id, level)"
        + " DO UPDATE SET idempotency_key = excluded.idempotency_key; COMMIT";

    private final List<AppendTx> uploads;
    final Object[] outcomes;

    Batch(List<AppendTx> uploads) {
      this.uploads = uploads;
      this.outcomes = new Object[uploads.size()];
    }

    @Override
    public Void run(Connection c) throws SQLException {
      int n = uploads.size();
      java.util.Arrays.fill(outcomes, null);
      Pages.Batch[] pages = new Pages.Batch[n];
      for (int i = 0; i < n; i++) {
        try {
          pages[i] = uploads.get(i).readPages();
        } catch (IOException | RuntimeException e) {
          outcomes[i] = e;
        }
      }
      Pages.Start[] starts = lockAndLookUp(c, pages);
      List<Integer> accepted = new ArrayList<>();
      TxnRow[] txns = new TxnRow[n];
      for (int i = 0; i < n; i++) {
        if (starts[i] == null) continue;
        try {
          txns[i] = uploads.get(i).check(c, starts[i], pages[i]);
          accepted.add(i);
        } catch (ApiException e) {
          outcomes[i] = e;
        }
      }
      if (!accepted.isEmpty()) write(c, accepted, starts, pages, txns);
      for (int i : accepted) outcomes[i] = uploads.get(i).result(starts[i], txns[i]);
      return null;
    }

    /**
     * Locks the uploads' databases (those whose pages were read) and looks up, for each that exists, its newest
     * transaction and the stored versions of the upload's pages: two statements sent together, the lookup's
     * snapshot taken after the locks were granted, so that it sees every upload committed before them. Returns
     * where each upload starts, null for those without a database or whose row another transaction holds.
     */
    private Pages.Start[] lockAndLookUp(Connection c, Pages.Batch[] pages) throws SQLException {
      int n = pages.length;
      Pages.Start[] starts = new Pages.Start[n];
      List<String> clusters = new ArrayList<>(), names = new ArrayList<>();
      List<Integer> index = new ArrayList<>(), pageIndex = new ArrayList<>();
      List<Long> pgnos = new ArrayList<>(), sums = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (pages[i] == null) continue;
        clusters.add(uploads.get(i).cluster());
        names.add(uploads.get(i).name());
        index.add(i);
        for (int j = 0; j < pages[i].size; j++) {
          pageIndex.add(i);
          pgnos.add(pages[i].pgnos[j]);
          sums.add(pages[i].checksums[j]);
        }
      }
      if (index.isEmpty()) return starts;
      PreparedStatement ps = Statements.prepare(c, LOCK + "; " + LOOK_UP);
      Object[] named = {clusters.toArray(new String[0]), names.toArray(new String[0]),
          index.stream().mapToInt(Integer::intValue).toArray()};
      Object[] params = {named[0], named[1], named[2], named[0], named[1], named[2],
          pageIndex.stream().mapToInt(Integer::intValue).toArray(), pgnos.stream().mapToLong(Long::longValue).toArray(),
          sums.stream().mapToLong(Long::longValue).toArray()};
      for (int p = 0; p < params.length; p++) ps.setObject(p + 1, params[p]);
      ps.execute();
      DbRow[] dbs = new DbRow[n];
      try (ResultSet rs = ps.getResultSet()) {
        while (rs.next()) dbs[rs.getInt(5)] = Rows.dbRow(rs);
      }
      ps.getMoreResults();
      TxnRow[] latest = new TxnRow[n];
      try (ResultSet rs = ps.getResultSet()) {
        while (rs.next()) {
          int i = rs.getInt(12);
          if (latest[i] == null && rs.getObject(1) != null) latest[i] = Rows.txnRow(rs);
          Pages.foundPage(rs, pages[i]);
        }
      }
      for (int i = 0; i < n; i++) if (dbs[i] != null) starts[i] = new Pages.Start(dbs[i], latest[i]);
      return starts;
    }

    /** Writes the accepted uploads' changed pages, transactions and level-1 requests, and commits. */
    private static void write(Connection c, List<Integer> accepted, Pages.Start[] starts, Pages.Batch[] pages,
        TxnRow[] txns) throws SQLException {
      int pageCount = 0;
      for (int i : accepted) pageCount += pages[i].changed();
      long[] pDb = new long[pageCount], pPgno = new long[pageCount], pMin = new long[pageCount];
      long[] pMax = new long[pageCount], pSum = new long[pageCount];
      byte[][] pData = new byte[pageCount][];
      int k = 0;
      for (int i : accepted) {
        Pages.Batch b = pages[i];
        for (int j = 0; j < b.size; j++) {
          if (b.unchanged[j]) continue;
          pDb[k] = starts[i].db().id();
          pPgno[k] = b.pgnos[j];
          pMin[k] = txns[i].minTxid();
          pMax[k] = txns[i].maxTxid();
          pSum[k] = b.checksums[j];
          pData[k++] = b.data[j];
        }
      }
      int n = accepted.size();
      long[] db = new long[n], min = new long[n], max = new long[n], commit = new long[n], time = new long[n];
      long[] received = new long[n], pre = new long[n], post = new long[n], keys = new long[n];
      int[] pageSize = new int[n], level = new int[n];
      for (int a = 0; a < n; a++) {
        int i = accepted.get(a);
        TxnRow t = txns[i];
        db[a] = starts[i].db().id();
        min[a] = t.minTxid();
        max[a] = t.maxTxid();
        pageSize[a] = t.pageSize();
        commit[a] = Integer.toUnsignedLong(t.commit());
        time[a] = t.timestamp();
        received[a] = t.receivedAt();
        pre[a] = t.preApplyChecksum();
        post[a] = t.postApplyChecksum();
        level[a] = 1;
        keys[a] = ThreadLocalRandom.current().nextLong();
      }
      PreparedStatement ps = Statements.prepare(c, WRITE);
      Object[] params = {pDb, pPgno, pMin, pMax, pSum, pData, db, min, max, pageSize, commit, time, received, pre,
          post, db, level, keys};
      for (int p = 0; p < params.length; p++) ps.setObject(p + 1, params[p]);
      ps.execute();
    }
  }
}
