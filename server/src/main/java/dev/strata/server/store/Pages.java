package dev.strata.server.store;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * Page versions of level 0. A database's state at TXID t is, for each page number up to the commit of t, the row
 * with the highest MaxTXID ≤ t.
 *
 * <p>An upload's pages come through here a {@link Batch} at a time: on PostgreSQL one statement looks up the stored
 * versions of a batch's pages, one writes those that changed. A statement and a round trip per page would cost
 * PostgreSQL and the server more CPU than everything else an upload does.
 */
final class Pages {
  /** A batch holds at most this many pages, and at most {@link #BATCH_BYTES} of page data. */
  static final int BATCH_PAGES = 256;
  static final int BATCH_BYTES = 1 << 20;

  private static final String INSERT =
      "INSERT INTO pages (db_id, pgno, min_txid, max_txid, chksum, data) VALUES (?, ?, ?, ?, ?, ?)";

  private Pages() {}

  /**
   * Consecutive pages of an upload (in ascending order, as LTX has them), read from its file, and what
   * {@link #lookUp} found stored for each: whether the page exists, its newest version's checksum, and that
   * version's bytes when the checksums are equal (a page rewritten as it was is then recognised without another
   * read).
   */
  static final class Batch {
    final int pageSize;
    final int capacity;
    int size;
    /** Whether the file has pages after this batch. */
    boolean more;
    long[] pgnos;
    long[] checksums;
    byte[][] data;
    boolean[] stored;
    long[] storedChecksums;
    byte[][] storedData;
    /** Pages equal to their stored version, not written again. */
    boolean[] unchanged;

    /**
     * A batch for a file of {@code pages} pages: no larger than the file needs (most uploads are a few pages), plus
     * one, so that a batch that holds the whole file also sees its end and needs no second round.
     */
    Batch(int pageSize, long pages) {
      this.pageSize = pageSize;
      this.capacity = (int) Math.min(pages + 1, limit(pageSize));
      pgnos = new long[capacity];
      checksums = new long[capacity];
      data = new byte[capacity][];
      stored = new boolean[capacity];
      storedChecksums = new long[capacity];
      storedData = new byte[capacity][];
      unchanged = new boolean[capacity];
    }

    private static int limit(int pageSize) {
      return Math.max(1, Math.min(BATCH_PAGES, BATCH_BYTES / pageSize));
    }

    /** Whether one batch holds a whole file of {@code pages} pages (and sees its end). */
    static boolean holdsWhole(int pageSize, long pages) {
      return pages + 1 <= limit(pageSize);
    }

    /** Reads the file's next pages into this batch, skipping the lock page (never part of a database). */
    void fill(SpooledLtx.PageCursor cursor, int lockPgno) throws IOException {
      size = 0;
      more = false;
      while (true) {
        if (size == capacity) {
          more = true;
          return;
        }
        if (data[size] == null) data[size] = new byte[pageSize];
        int pgno = cursor.next(data[size]);
        if (pgno == 0) return;
        if (pgno == lockPgno) continue;
        pgnos[size] = Integer.toUnsignedLong(pgno);
        checksums[size] = cursor.checksum();
        size++;
      }
    }

    /** Clears what a lookup found: {@link #lookUp} fills it anew. */
    void forgetFound() {
      Arrays.fill(stored, 0, size, false);
      Arrays.fill(storedData, 0, size, null);
      Arrays.fill(unchanged, 0, size, false);
    }

    /** How many pages of the batch are to be written. */
    int changed() {
      int n = 0;
      for (int i = 0; i < size; i++) if (!unchanged[i]) n++;
      return n;
    }
  }

  /** Where an upload starts: its database, locked for the rest of the transaction, and its newest transaction. */
  record Start(DbRow db, TxnRow latest) {}

  /**
   * Locks the database {@code cluster/name} ({@link Rows#lockDb}; created first when missing and {@code create},
   * else null is returned) and looks up the batch's stored pages ({@link #lookUp}). On PostgreSQL the lock and the
   * lookup are two statements sent in one round trip: the lookup's snapshot is taken when it starts, after the lock
   * was granted, so it sees every upload that held the lock before, as if it had been sent on its own.
   */
  static Start lockAndLookUp(Connection c, String cluster, String name, boolean create, Batch b)
      throws SQLException {
    b.forgetFound();
    if (Rows.postgres(c)) {
      PreparedStatement ps = Statements.prepare(c, Rows.LOCK_DB_POSTGRES + "; " + lookUpSql(DB_BY_NAME));
      ps.setString(1, cluster);
      ps.setString(2, name);
      ps.setString(3, cluster);
      ps.setString(4, name);
      ps.setObject(5, Arrays.copyOf(b.pgnos, b.size));
      ps.setObject(6, Arrays.copyOf(b.checksums, b.size));
      ps.setString(7, cluster);
      ps.setString(8, name);
      ps.execute();
      DbRow db;
      try (ResultSet rs = ps.getResultSet()) {
        db = rs.next() ? Rows.dbRow(rs) : null;
      }
      ps.getMoreResults();
      TxnRow latest;
      try (ResultSet rs = ps.getResultSet()) {
        latest = found(rs, b);
      }
      if (db != null) return new Start(db, latest);
    }
    // The embedded store, and a database PostgreSQL does not hold yet: one statement after the other.
    DbRow db = create ? Rows.lockOrCreateDb(c, cluster, name) : Rows.lockDb(c, cluster, name);
    return db == null ? null : new Start(db, lookUp(c, db.id(), b));
  }

  /**
   * Looks up the stored versions of the batch's pages (filling {@link Batch#stored} and the rest) and returns the
   * database's newest transaction (null for none). On PostgreSQL one statement does it all, one round trip whatever
   * the batch holds. The embedded store, in process, runs a small statement per page instead: SQLite would copy a
   * list of pages given as rows into a temporary table first, which costs it more than the statements saved.
   */
  static TxnRow lookUp(Connection c, long dbId, Batch b) throws SQLException {
    b.forgetFound();
    if (!Rows.postgres(c)) {
      TxnRow latest = Rows.latestTxn(c, dbId);
      long commit = latest == null ? 0 : Integer.toUnsignedLong(latest.commit());
      PreparedStatement ps = Statements.prepare(c, "SELECT chksum, CASE WHEN chksum = ? THEN data END FROM pages"
          + " WHERE db_id = ? AND pgno = ? ORDER BY max_txid DESC LIMIT 1");
      for (int i = 0; i < b.size && b.pgnos[i] <= commit; i++) { // pages beyond the commit are new
        ps.setLong(1, b.checksums[i]);
        ps.setLong(2, dbId);
        ps.setLong(3, b.pgnos[i]);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) found(b, i, rs.getLong(1), rs.getBytes(2));
        }
      }
      return latest;
    }
    PreparedStatement ps = Statements.prepare(c, lookUpSql("?"));
    ps.setLong(1, dbId);
    ps.setObject(2, Arrays.copyOf(b.pgnos, b.size));
    ps.setObject(3, Arrays.copyOf(b.checksums, b.size));
    ps.setLong(4, dbId);
    try (ResultSet rs = ps.executeQuery()) {
      return found(rs, b);
    }
  }

  /** The database's id by its cluster and name, for the lookup sent with the lock. */
  private static final String DB_BY_NAME = "(SELECT id FROM databases WHERE cluster = ? AND name = ?)";

  /**
   * PostgreSQL's lookup of a batch, the database given by {@code dbId} (an expression): the newest transaction and,
   * for each page of the batch (an array of page numbers, one of their checksums), its newest stored version.
   */
  private static String lookUpSql(String dbId) {
    return "SELECT latest.*, u.pgno, p.chksum, CASE WHEN p.chksum = u.chksum THEN p.data END"
        + " FROM (SELECT " + Rows.TXN_COLUMNS + " FROM txns WHERE db_id = " + dbId
        + " ORDER BY max_txid DESC LIMIT 1) latest"
        + " LEFT JOIN (unnest(?::bigint[], ?::bigint[]) AS u (pgno, chksum) JOIN LATERAL (SELECT chksum, data"
        + " FROM pages WHERE db_id = " + dbId + " AND pgno = u.pgno ORDER BY max_txid DESC LIMIT 1) p ON true)"
        + " ON true";
  }

  /**
   * Reads {@link #lookUpSql}'s answer into the batch and returns the newest transaction: one row per page found,
   * each with the transaction; one row without a page when none is; no row for a database without transactions.
   */
  private static TxnRow found(ResultSet rs, Batch b) throws SQLException {
    TxnRow latest = null;
    while (rs.next()) {
      if (latest == null) latest = Rows.txnRow(rs);
      foundPage(rs, b);
    }
    return latest;
  }

  /** The page part of a row of {@link #lookUpSql}'s answer (columns 9 to 11; none when null), into the batch. */
  static void foundPage(ResultSet rs, Batch b) throws SQLException {
    long pgno = rs.getLong(9);
    if (rs.wasNull()) return;
    found(b, Arrays.binarySearch(b.pgnos, 0, b.size, pgno), rs.getLong(10), rs.getBytes(11));
  }

  private static void found(Batch b, int i, long checksum, byte[] sameChecksumData) {
    b.stored[i] = true;
    b.storedChecksums[i] = checksum;
    b.storedData[i] = sameChecksumData;
  }

  /**
   * Writes the batch's changed pages as versions {@code minTxid..maxTxid} (one JDBC batch). On PostgreSQL only the
   * batches before an upload's last come here: pgjdbc sends them in one round trip, one statement per page, and
   * uploads of more than a batch are rare enough that rewriting them into multi-row inserts
   * ({@code reWriteBatchedInserts}) would not pay for another way of writing pages.
   */
  static void insert(Connection c, long dbId, long minTxid, long maxTxid, Batch b) throws SQLException {
    if (b.changed() == 0) return;
    PreparedStatement ps = Statements.prepare(c, INSERT);
    for (int i = 0; i < b.size; i++) {
      if (b.unchanged[i]) continue;
      ps.setLong(1, dbId);
      ps.setLong(2, b.pgnos[i]);
      ps.setLong(3, minTxid);
      ps.setLong(4, maxTxid);
      ps.setLong(5, b.checksums[i]);
      ps.setBytes(6, b.data[i]);
      ps.addBatch();
    }
    ps.executeBatch();
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
}
