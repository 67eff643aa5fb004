package dev.strata.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Prepared statements of the upload path, prepared once per connection: preparing costs more than running these
 * small statements, and the metadata writer runs them for every upload.
 */
final class WriterStatements {
  private static final Map<Connection, WriterStatements> CACHE = new WeakHashMap<>();

  final PreparedStatement currentPage;
  final PreparedStatement pageData;
  final PreparedStatement insertPage;

  private WriterStatements(Connection c) throws SQLException {
    currentPage = c.prepareStatement(
        "SELECT rowid, chksum FROM pages WHERE db_id = ? AND pgno = ? ORDER BY max_txid DESC LIMIT 1");
    pageData = c.prepareStatement("SELECT data FROM pages WHERE rowid = ?");
    insertPage = c.prepareStatement(
        "INSERT INTO pages (db_id, pgno, min_txid, max_txid, chksum, data) VALUES (?, ?, ?, ?, ?, ?)");
  }

  /** The statements of {@code c}, prepared on first use. */
  static WriterStatements of(Connection c) throws SQLException {
    synchronized (CACHE) {
      WriterStatements s = CACHE.get(c);
      if (s == null) {
        s = new WriterStatements(c);
        CACHE.put(c, s);
      }
      return s;
    }
  }
}
