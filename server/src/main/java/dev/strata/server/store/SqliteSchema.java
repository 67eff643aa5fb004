package dev.strata.server.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The embedded metadata database's tables (litefs-backup's schema, spec §4.2, as a guide); PostgreSQL's are the
 * same ({@code db/postgresql}, whose V1 is version 3 here and V2 version 4). Checksums are stored as signed 64-bit
 * integers, timestamps as epoch milliseconds. Versioned with {@code PRAGMA user_version}.
 */
final class SqliteSchema {
  static final int VERSION = 4;

  private static final String[] V1 = {
    """
    CREATE TABLE databases (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      cluster TEXT NOT NULL,
      name TEXT NOT NULL,
      hwm INTEGER NOT NULL DEFAULT 0,
      UNIQUE (cluster, name)
    ) STRICT""",
    """
    CREATE TABLE txns (
      db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
      min_txid INTEGER NOT NULL,
      max_txid INTEGER NOT NULL,
      page_size INTEGER NOT NULL,
      "commit" INTEGER NOT NULL,
      timestamp INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      pre_apply_checksum INTEGER NOT NULL,
      post_apply_checksum INTEGER NOT NULL,
      PRIMARY KEY (db_id, max_txid)
    ) STRICT, WITHOUT ROWID""",
    // Every version of every page received within level-0 retention, plus the newest version of each page.
    """
    CREATE TABLE pages (
      db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
      pgno INTEGER NOT NULL,
      min_txid INTEGER NOT NULL,
      max_txid INTEGER NOT NULL,
      chksum INTEGER NOT NULL,
      data BLOB NOT NULL
    ) STRICT""",
    "CREATE UNIQUE INDEX pages_by_version ON pages (db_id, pgno, max_txid)",
    """
    CREATE TABLE compaction_requests (
      db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
      level INTEGER NOT NULL,
      idempotency_key INTEGER NOT NULL,
      PRIMARY KEY (db_id, level)
    ) STRICT""",
    // Databases whose rows are gone but whose storage objects may remain (a crash during DELETE).
    """
    CREATE TABLE deletions (
      cluster TEXT NOT NULL,
      name TEXT NOT NULL,
      PRIMARY KEY (cluster, name)
    ) STRICT""",
  };

  // Version 2: the LiteFS cluster ID (Litefs-Cluster-Id) each cluster is bound to; clusters of older data
  // directories have none until LiteFS next calls.
  private static final String[] V2 = {
    """
    CREATE TABLE cluster_ids (
      cluster TEXT PRIMARY KEY,
      litefs_cluster_id TEXT NOT NULL
    ) STRICT, WITHOUT ROWID""",
  };

  // Version 3: several instances (leases with fencing epochs) and the catalogue of storage files that count. A
  // database from an older version is catalogued from a listing of its storage at the server's next start.
  private static final String[] V3 = {
    "ALTER TABLE databases ADD COLUMN catalogued INTEGER NOT NULL DEFAULT 0",
    """
    CREATE TABLE leases (
      cluster TEXT NOT NULL,
      name TEXT NOT NULL,
      owner TEXT NOT NULL,
      epoch INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (cluster, name)
    ) STRICT, WITHOUT ROWID""",
    """
    CREATE TABLE files (
      db_id INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
      level INTEGER NOT NULL,
      min_txid INTEGER NOT NULL,
      max_txid INTEGER NOT NULL,
      size INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      page_size INTEGER NOT NULL,
      "commit" INTEGER NOT NULL,
      timestamp INTEGER NOT NULL,
      pre_apply_checksum INTEGER NOT NULL,
      post_apply_checksum INTEGER NOT NULL,
      PRIMARY KEY (db_id, level, min_txid, max_txid)
    ) STRICT, WITHOUT ROWID""",
  };

  // Version 4: a deleted database is remembered past the removal of its storage, so that objects a job still wrote
  // there afterwards are swept. Deletions of older versions are removals still pending.
  private static final String[] V4 = {
    "ALTER TABLE deletions ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE deletions ADD COLUMN removed INTEGER NOT NULL DEFAULT 0",
  };

  private SqliteSchema() {}

  /** Creates or upgrades the schema inside one transaction. */
  static void migrate(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("BEGIN IMMEDIATE");
      try {
        int version;
        try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
          version = rs.next() ? rs.getInt(1) : 0;
        }
        if (version > VERSION) {
          throw new SQLException("metadata database has schema version " + version + ", newer than this server knows ("
              + VERSION + "): run a newer strata");
        }
        if (version < 1) {
          for (String ddl : V1) s.execute(ddl);
        }
        if (version < 2) {
          for (String ddl : V2) s.execute(ddl);
        }
        if (version < 3) {
          for (String ddl : V3) s.execute(ddl);
        }
        if (version < 4) {
          for (String ddl : V4) s.execute(ddl);
        }
        s.execute("PRAGMA user_version = " + VERSION);
        s.execute("COMMIT");
      } catch (SQLException e) {
        s.execute("ROLLBACK");
        throw e;
      }
    }
  }
}
