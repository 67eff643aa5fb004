package dev.strata.server.store;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Txid;
import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A database state at a transaction boundary, read from level 0: for each page the newest version at or before the
 * TXID. Every page's stored checksum is checked against its bytes and the pages' sum against the transaction's
 * post-apply checksum, so a damaged metadata database cannot produce a silently wrong snapshot.
 */
public final class LocalSnapshot {
  private LocalSnapshot() {}

  /**
   * Streams the state after transaction {@code txid} into {@code sink} (call inside a read transaction). Throws
   * {@code ENOTXID} when no local transaction ends at {@code txid}.
   */
  public static TxnRow write(Connection c, long dbId, long txid, PageSink sink) throws SQLException, IOException {
    TxnRow txn = Rows.txnByMax(c, dbId, txid);
    if (txn == null) throw ApiException.noTxid(null);
    sink.begin(txn);
    long commit = Integer.toUnsignedLong(txn.commit());
    int lockPgno = LtxHeader.lockPgno(txn.pageSize());
    long checksum = Checksum.EMPTY_DATABASE;
    long want = 1;
    try (PreparedStatement ps = c.prepareStatement("SELECT pgno, chksum, data FROM pages WHERE db_id = ?"
        + " AND pgno <= ? AND max_txid <= ? ORDER BY pgno, max_txid DESC")) {
      ps.setLong(1, dbId);
      ps.setLong(2, commit);
      ps.setLong(3, txid);
      try (ResultSet rs = ps.executeQuery()) {
        long last = 0;
        while (rs.next()) {
          long pgno = rs.getLong(1);
          if (pgno == last) continue; // an older version of the page just sent
          last = pgno;
          if (pgno == lockPgno) continue;
          if (want == lockPgno) want++;
          if (pgno != want) throw missing(want, txid);
          byte[] data = rs.getBytes(3);
          long sum = Checksum.ofPage((int) pgno, data);
          if (sum != rs.getLong(2)) {
            throw new ApiException(ErrorCode.EINTERNAL, "stored page " + pgno + " @ " + Txid.format(txid)
                + " is damaged: checksum " + Checksum.format(sum) + ", recorded " + Checksum.format(rs.getLong(2)));
          }
          checksum = Checksum.roll(checksum, 0, sum);
          sink.page((int) pgno, data);
          want++;
        }
      }
    }
    if (want == lockPgno && commit >= lockPgno) want++;
    if (want <= commit) throw missing(want, txid);
    if (checksum != txn.postApplyChecksum()) {
      throw new ApiException(ErrorCode.EINTERNAL, "local state @ " + Txid.format(txid) + " has checksum "
          + Checksum.format(checksum) + ", recorded " + Checksum.format(txn.postApplyChecksum()));
    }
    sink.end();
    return txn;
  }

  private static ApiException missing(long pgno, long txid) {
    return new ApiException(ErrorCode.ENOPAGE, "page " + pgno + " not found @ " + Txid.format(txid));
  }
}
