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
    // Created (if allowed) and locked: a failure below undoes the creation with the rest of the job.
    DbRow db = create ? Rows.lockOrCreateDb(c, cluster, name) : Rows.lockDb(c, cluster, name);
    if (db == null) throw ApiException.noDatabase();
    TxnRow cur = Rows.latestTxn(c, db.id());
    Pos curPos = cur == null ? Pos.ZERO : cur.pos();
    if (cur != null && cur.pageSize() != h.pageSize()) {
      throw new ApiException(ErrorCode.EBADHEADER, "page size mismatch");
    }
    long min, max, pre;
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

    long curCommit = cur == null ? 0 : Integer.toUnsignedLong(cur.commit());
    long newCommit = Integer.toUnsignedLong(h.commit());
    int lockPgno = h.lockPgno();
    long checksum = pre == 0 ? Checksum.EMPTY_DATABASE : pre;
    long grown = 0;
    LtxTrailer trailer = file.info().trailer();
    try (Pages pages = new Pages(c); SpooledLtx.PageCursor cursor = file.pages()) {
      byte[] buf = new byte[h.pageSize()];
      for (int pgno; (pgno = cursor.next(buf)) != 0; ) {
        if (pgno == lockPgno) continue; // never part of a database
        long sum = cursor.checksum();
        long p = Integer.toUnsignedLong(pgno);
        if (p <= curCommit) {
          long[] old = pages.current(db.id(), pgno);
          if (old == null) {
            throw new ApiException(ErrorCode.ENOPREVPAGE, "prev page " + p + " not found @ " + Txid.format(curPos.txid()));
          }
          if (old[1] == sum && Arrays.equals(pages.data(db.id(), pgno, old[0]), buf)) continue;
          checksum = Checksum.roll(checksum, old[1], sum);
        } else {
          grown++;
          checksum = Checksum.roll(checksum, 0, sum);
        }
        pages.insert(db.id(), pgno, min, max, sum, buf, h.pageSize());
      }
    }
    if (newCommit < curCommit) {
      checksum = Checksum.FLAG | (checksum ^ Pages.checksumOfRange(c, db.id(), newCommit, curCommit, lockPgno));
    } else if (newCommit > curCommit) {
      long expected = newCommit - curCommit - (lockPgno > curCommit && lockPgno <= newCommit ? 1 : 0);
      if (grown != expected) {
        throw new ApiException(ErrorCode.EMISSINGPAGES, "database extend without all pages, expected " + expected
            + " new pages, found " + grown + " pages");
      }
    }
    if (checksum != trailer.postApplyChecksum()) {
      throw new ApiException(ErrorCode.EBADCHECKSUM, "incorrect post-apply checksum of "
          + Checksum.format(trailer.postApplyChecksum()) + ", expected " + Checksum.format(checksum));
    }
    long timestamp = timestampOverride != null ? timestampOverride : h.timestamp();
    Rows.insertTxn(c, db.id(), new TxnRow(min, max, h.pageSize(), h.commit(), timestamp, receivedAt, pre,
        trailer.postApplyChecksum()));
    Rows.requestCompaction(c, db.id(), 1);
    // The row was read under its lock, and an upload leaves the HWM alone: it is still current.
    return new Result(db, new Pos(max, trailer.postApplyChecksum()), db.hwm(), h.commit());
  }
}
