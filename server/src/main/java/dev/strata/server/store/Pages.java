package dev.strata.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Page versions of level 0. A database's state at TXID t is, for each page number up to the commit of t, the row
 * with the highest MaxTXID ≤ t. The statements stay prepared on the connection ({@link Statements}).
 */
final class Pages implements AutoCloseable {
  private final PreparedStatement current;
  private final PreparedStatement data;
  private final PreparedStatement insert;

  Pages(Connection c) throws SQLException {
    current = Statements.prepare(c,
        "SELECT max_txid, chksum FROM pages WHERE db_id = ? AND pgno = ? ORDER BY max_txid DESC LIMIT 1");
    data = Statements.prepare(c, "SELECT data FROM pages WHERE db_id = ? AND pgno = ? AND max_txid = ?");
    insert = Statements.prepare(c,
        "INSERT INTO pages (db_id, pgno, min_txid, max_txid, chksum, data) VALUES (?, ?, ?, ?, ?, ?)");
  }

  /** The newest version of a page: {MaxTXID, checksum}, or null. */
  long[] current(long dbId, int pgno) throws SQLException {
    current.setLong(1, dbId);
    current.setLong(2, Integer.toUnsignedLong(pgno));
    try (ResultSet rs = current.executeQuery()) {
      return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : null;
    }
  }

  /** The bytes of a page version. */
  byte[] data(long dbId, int pgno, long maxTxid) throws SQLException {
    data.setLong(1, dbId);
    data.setLong(2, Integer.toUnsignedLong(pgno));
    data.setLong(3, maxTxid);
    try (ResultSet rs = data.executeQuery()) {
      return rs.next() ? rs.getBytes(1) : null;
    }
  }

  void insert(long dbId, int pgno, long minTxid, long maxTxid, long checksum, byte[] page, int pageSize)
      throws SQLException {
    insert.setLong(1, dbId);
    insert.setLong(2, Integer.toUnsignedLong(pgno));
    insert.setLong(3, minTxid);
    insert.setLong(4, maxTxid);
    insert.setLong(5, checksum);
    insert.setBytes(6, page.length == pageSize ? page : java.util.Arrays.copyOf(page, pageSize));
    insert.executeUpdate();
  }

  /** XOR of the newest checksums of pages in (from, to], skipping {@code lockPgno}. */
  static long checksumOfRange(Connection c, long dbId, long from, long to, long lockPgno) throws SQLException {
    long x = 0;
    try (PreparedStatement ps = c.prepareStatement("SELECT pgno, chksum FROM pages p WHERE db_id = ? AND pgno > ?"
        + " AND pgno <= ? AND max_txid = (SELECT max(max_txid) FROM pages q WHERE q.db_id = p.db_id"
        + " AND q.pgno = p.pgno)")) {
      ps.setLong(1, dbId);
      ps.setLong(2, from);
      ps.setLong(3, to);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (rs.getLong(1) != lockPgno) x ^= rs.getLong(2);
        }
      }
    }
    return x;
  }

  /**
   * Level-0 retention: forgets history before {@code txid} (a transaction boundary): page versions superseded at
   * or before it, and pages beyond its commit, which no state from {@code txid} on can reach.
   */
  static void collapse(Connection c, long dbId, long txid, long commit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM pages WHERE db_id = ? AND max_txid < ? AND EXISTS"
        + " (SELECT 1 FROM pages q WHERE q.db_id = pages.db_id AND q.pgno = pages.pgno"
        + " AND q.max_txid > pages.max_txid AND q.max_txid <= ?)")) {
      ps.setLong(1, dbId);
      ps.setLong(2, txid);
      ps.setLong(3, txid);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement(
        "DELETE FROM pages WHERE db_id = ? AND max_txid <= ? AND pgno > ?")) {
      ps.setLong(1, dbId);
      ps.setLong(2, txid);
      ps.setLong(3, commit);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM txns WHERE db_id = ? AND max_txid < ?")) {
      ps.setLong(1, dbId);
      ps.setLong(2, txid);
      ps.executeUpdate();
    }
  }

  /** Releases the statements' state (they stay prepared for the next job). */
  @Override
  public void close() throws SQLException {
    current.clearParameters();
    data.clearParameters();
    insert.clearParameters();
  }
}
