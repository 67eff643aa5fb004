package dev.strata.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Prepared statements kept per connection: preparing costs more than running the small statements of the upload
 * path. A connection is only ever used by one thread at a time (the writer, or a reader that borrowed it), so a
 * statement is never shared; callers close their result sets but not the statements.
 */
final class Statements {
  private static final Map<Connection, Map<String, PreparedStatement>> CACHE = new IdentityHashMap<>();

  private Statements() {}

  /** The prepared statement for {@code sql} on {@code c}, parameters cleared. */
  static PreparedStatement prepare(Connection c, String sql) throws SQLException {
    Map<String, PreparedStatement> mine;
    synchronized (CACHE) {
      mine = CACHE.computeIfAbsent(c, k -> new HashMap<>());
    }
    PreparedStatement ps = mine.get(sql);
    if (ps == null || ps.isClosed()) {
      ps = c.prepareStatement(sql);
      mine.put(sql, ps);
    } else {
      ps.clearParameters();
    }
    return ps;
  }

  /** Drops the statements of a connection being closed. */
  static void forget(Connection c) {
    synchronized (CACHE) {
      CACHE.remove(c);
    }
  }
}
