package dev.strata.server.store;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * Accepting one LTX file into level 0 (spec §4.3), run by the metadata writer. The file must start where the
 * database is; its pages are applied to the stored state while the database checksum is rolled forward, and the
 * result must equal the file's post-apply checksum. Pages identical to the current version are not stored again.
 *
 * <p>Two modes: an upload from LiteFS ({@link #tx}) carries its own TXID range; a restore or import
 * ({@link #snapshot}) is a full snapshot appended as the next TXID, diffed against the current state, so LiteFS sees
 * an ordinary new transaction.
 *
 * <p>Unlike litefs-backup, the checksum of a brand-new database starts from the empty database's checksum, so an
 * empty snapshot (commit 0) is accepted.
 */
public final class AppendTx implements SqlJob<AppendTx.Result> {
  /** The database after the append and its high-water mark. */
  public record Result(DbRow db, Pos pos, long hwm, int commit) {}

  private final String cluster;
  private final String name;
  private final SpooledLtx file;
  private final boolean appendSnapshot;
  private final long receivedAt;
  private final Long timestampOverride;
  private final boolean create;

  private AppendTx(String cluster, String name, SpooledLtx file, boolean appendSnapshot, long receivedAt,
      Long timestampOverride, boolean create) {
    this.cluster = cluster;
    this.name = name;
    this.file = file;
    this.appendSnapshot = appendSnapshot;
    this.receivedAt = receivedAt;
    this.timestampOverride = timestampOverride;
    this.create = create;
  }

  /** An upload from LiteFS ({@code POST /db/tx}). */
  public static AppendTx tx(String cluster, String name, SpooledLtx file, long now) {
    return new AppendTx(cluster, name, file, false, now, null, true);
  }

  /**
   * A snapshot appended as the next transaction (restore, import); {@code timestamp} null keeps the file's. A
   * restore passes {@code create} false so that it cannot bring back a database deleted meanwhile.
   */
  public static AppendTx snapshot(String cluster, String name, SpooledLtx file, long now, Long timestamp,
      boolean create) {
    return new AppendTx(cluster, name, file, true, now, timestamp, create);
  }

  @Override
  public Result run(Connection c) throws SQLException, IOException {
    LtxHeader h = file.info().header();
    try (SpooledLtx.PageCursor cursor = file.pages()) {
      // The file's pages go by batches: the first is looked up with the database's lock (which creates it, if
      // allowed: a failure below undoes the creation with the rest of the job) and its newest transaction, each
      // further batch by one statement; each batch but the last is written once looked up, the last with the
      // transaction once everything checked out.
      Pages.Batch batch = new Pages.Batch(h.pageSize(), file.info().pageCount());
      batch.fill(cursor, h.lockPgno());
      Pages.Start start = Pages.lockAndLookUp(c, cluster, name, create, batch);
      if (start == null) throw ApiException.noDatabase();
      Check check = new Check(start);
      while (true) {
        check.roll(batch);
        if (!batch.more) break;
        Pages.insert(c, start.db().id(), check.min, check.max, batch);
        batch.fill(cursor, h.lockPgno());
        Pages.lookUp(c, start.db().id(), batch);
      }
      TxnRow txn = check.finish(c);
      write(c, start.db().id(), batch, txn);
      return result(start, txn);
    }
  }

  /** The database this upload goes to. */
  String cluster() {
    return cluster;
  }

  String name() {
    return name;
  }

  /**
   * Whether this upload can be written in one transaction with others ({@link UploadBatches}): an upload from
   * LiteFS whose pages fit one batch.
   */
  boolean batchable() {
    return !appendSnapshot && Pages.Batch.holdsWhole(file.info().header().pageSize(), file.info().pageCount());
  }

  /** Reads all of this upload's pages into one batch ({@link #batchable} said they fit). */
  Pages.Batch readPages() throws IOException {
    LtxHeader h = file.info().header();
    Pages.Batch batch = new Pages.Batch(h.pageSize(), file.info().pageCount());
    try (SpooledLtx.PageCursor cursor = file.pages()) {
      batch.fill(cursor, h.lockPgno());
    }
    if (batch.more) throw new IllegalStateException("upload does not fit one batch");
    return batch;
  }

  /**
   * Checks this upload, whose pages are all in {@code batch}, against what a lookup under the database's lock found
   * ({@code start} and the batch's stored versions), and returns its transaction; {@link ApiException} when it is
   * refused. Nothing is written.
   */
  TxnRow check(Connection c, Pages.Start start, Pages.Batch batch) throws SQLException {
    Check check = new Check(start);
    check.roll(batch);
    return check.finish(c);
  }

  /**
   * The result of this upload once {@code txn} is committed. The database's row was read under its lock, and an
   * upload leaves the HWM alone: it is still current.
   */
  Result result(Pages.Start start, TxnRow txn) {
    return new Result(start.db(), txn.pos(), start.db().hwm(), file.info().header().commit());
  }

  /**
   * The checks of spec §4.3 as the pages go by: the file must start at the database's position, and the database
   * checksum rolled forward over its pages must end at the file's post-apply checksum.
   */
  private final class Check {
    final long min, max;
    private final long pre;
    private final Pos curPos;
    private final long curCommit, newCommit;
    private final int lockPgno;
    private long checksum;
    private long grown;
    private final long dbId;

    Check(Pages.Start start) {
      LtxHeader h = file.info().header();
      TxnRow cur = start.latest();
      dbId = start.db().id();
      curPos = cur == null ? Pos.ZERO : cur.pos();
      if (cur != null && cur.pageSize() != h.pageSize()) {
        throw new ApiException(ErrorCode.EBADHEADER, "page size mismatch");
      }
      if (appendSnapshot) {
        if (!h.isSnapshot()) throw new ApiException(ErrorCode.EBADHEADER, "snapshot required");
        min = max = curPos.txid() + 1;
        pre = curPos.postApplyChecksum();
      } else {
        min = h.minTxid();
        max = h.maxTxid();
        pre = h.preApplyChecksum();
      }
      if (curPos.txid() != min - 1 || curPos.postApplyChecksum() != pre) throw ApiException.posMismatch(curPos);
      if (max < 0) throw new ApiException(ErrorCode.EBADHEADER, "transaction id out of range: " + Txid.format(max));
      curCommit = cur == null ? 0 : Integer.toUnsignedLong(cur.commit());
      newCommit = Integer.toUnsignedLong(h.commit());
      lockPgno = h.lockPgno();
      checksum = pre == 0 ? Checksum.EMPTY_DATABASE : pre;
    }

    /** Rolls the checksum over a looked-up batch, marking the pages equal to their stored version. */
    void roll(Pages.Batch batch) {
      for (int i = 0; i < batch.size; i++) {
        long p = batch.pgnos[i];
        long sum = batch.checksums[i];
        if (p <= curCommit) {
          if (!batch.stored[i]) {
            throw new ApiException(ErrorCode.ENOPREVPAGE, "prev page " + p + " not found @ "
                + Txid.format(curPos.txid()));
          }
          long old = batch.storedChecksums[i];
          if (old == sum && Arrays.equals(batch.storedData[i], batch.data[i])) {
            batch.unchanged[i] = true;
            continue;
          }
          checksum = Checksum.roll(checksum, old, sum);
        } else {
          grown++;
          checksum = Checksum.roll(checksum, 0, sum);
        }
      }
    }

    /** After the last batch: the size change and the post-apply checksum; the transaction to write. */
    TxnRow finish(Connection c) throws SQLException {
      LtxHeader h = file.info().header();
      if (newCommit < curCommit) {
        checksum = Checksum.FLAG | (checksum ^ Pages.checksumOfRange(c, dbId, newCommit, curCommit, lockPgno));
      } else if (newCommit > curCommit) {
        long expected = newCommit - curCommit - (lockPgno > curCommit && lockPgno <= newCommit ? 1 : 0);
        if (grown != expected) {
          throw new ApiException(ErrorCode.EMISSINGPAGES, "database extend without all pages, expected " + expected
              + " new pages, found " + grown + " pages");
        }
      }
      LtxTrailer trailer = file.info().trailer();
      if (checksum != trailer.postApplyChecksum()) {
        throw new ApiException(ErrorCode.EBADCHECKSUM, "incorrect post-apply checksum of "
            + Checksum.format(trailer.postApplyChecksum()) + ", expected " + Checksum.format(checksum));
      }
      long timestamp = timestampOverride != null ? timestampOverride : h.timestamp();
      return new TxnRow(min, max, h.pageSize(), h.commit(), timestamp, receivedAt, pre, trailer.postApplyChecksum());
    }
  }

  /**
   * Writes the last batch of pages, the transaction and a level-1 compaction request. On PostgreSQL in one
   * statement, sent with the {@code COMMIT}: one round trip instead of four, each of which costs both processes CPU
   * (the store's commit after the job then has nothing left to do: pgjdbc sends none when the server says no
   * transaction is open). Nothing may follow this in the job. The embedded store runs them one by one, in process.
   * (The lookup cannot join this statement: the checks between them are made here.)
   */
  private static void write(Connection c, long dbId, Pages.Batch batch, TxnRow txn) throws SQLException {
    if (!Rows.postgres(c)) {
      Pages.insert(c, dbId, txn.minTxid(), txn.maxTxid(), batch);
      Rows.insertTxn(c, dbId, txn);
      Rows.requestCompaction(c, dbId, 1);
      return;
    }
    int n = batch.changed();
    long[] pgnos = new long[n];
    long[] checksums = new long[n];
    byte[][] data = new byte[n][];
    for (int i = 0, j = 0; i < batch.size; i++) {
      if (batch.unchanged[i]) continue;
      pgnos[j] = batch.pgnos[i];
      checksums[j] = batch.checksums[i];
      data[j++] = batch.data[i];
    }
    PreparedStatement ps = Statements.prepare(c, "WITH new_pages AS (INSERT INTO pages (db_id, pgno, min_txid,"
        + " max_txid, chksum, data) SELECT ?, u.pgno, ?, ?, u.chksum, u.data FROM unnest(?::bigint[], ?::bigint[],"
        + " ?::bytea[]) AS u (pgno, chksum, data)), new_txn AS (" + Rows.INSERT_TXN + ") "
        + Rows.REQUEST_COMPACTION + "; COMMIT");
    ps.setLong(1, dbId);
    ps.setLong(2, txn.minTxid());
    ps.setLong(3, txn.maxTxid());
    ps.setObject(4, pgnos);
    ps.setObject(5, checksums);
    ps.setObject(6, data);
    int next = Rows.bindTxn(ps, 7, dbId, txn);
    Rows.bindCompactionRequest(ps, next, dbId, 1);
    ps.execute();
  }
}
