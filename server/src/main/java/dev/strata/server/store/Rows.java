package dev.strata.server.store;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** The metadata queries, each a static method over a connection the caller's transaction owns. */
public final class Rows {
  static final String TXN_COLUMNS = "min_txid, max_txid, page_size, \"commit\", timestamp, received_at,"
      + " pre_apply_checksum, post_apply_checksum";

  private Rows() {}

  /** Whether {@code c} is the PostgreSQL store's (the few statements only PostgreSQL has). */
  static boolean postgres(Connection c) throws SQLException {
    return c.getMetaData().getDatabaseProductName().equals("PostgreSQL");
  }

  /** The database {@code cluster/name}, or null. */
  public static DbRow findDb(Connection c, String cluster, String name) throws SQLException {
    PreparedStatement ps = Statements.prepare(c,
        "SELECT id, cluster, name, hwm FROM databases WHERE cluster = ? AND name = ?");
    ps.setString(1, cluster);
    ps.setString(2, name);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? dbRow(rs) : null;
    }
  }

  /** The database with this id, or null. */
  public static DbRow findDb(Connection c, long id) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "SELECT id, cluster, name, hwm FROM databases WHERE id = ?");
    ps.setLong(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? dbRow(rs) : null;
    }
  }

  /** A database and its newest transaction, or null. */
  public static DbState findState(Connection c, String cluster, String name) throws SQLException {
    DbRow db = findDb(c, cluster, name);
    return db == null ? null : new DbState(db, latestTxn(c, db.id()));
  }

  /** The databases of a cluster with their newest transactions, by name. */
  public static List<DbState> listStates(Connection c, String cluster) throws SQLException {
    List<DbState> out = new ArrayList<>();
    for (DbRow db : listDbs(c, cluster)) out.add(new DbState(db, latestTxn(c, db.id())));
    return out;
  }

  /** The databases of a cluster (every cluster when null), by cluster and name. */
  public static List<DbRow> listDbs(Connection c, String cluster) throws SQLException {
    String sql = "SELECT id, cluster, name, hwm FROM databases"
        + (cluster == null ? "" : " WHERE cluster = ?") + " ORDER BY cluster, name";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (cluster != null) ps.setString(1, cluster);
      List<DbRow> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(dbRow(rs));
      }
      return out;
    }
  }

  /** Names of the clusters that have databases, sorted. */
  public static List<String> listClusters(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT cluster FROM databases ORDER BY cluster");
        ResultSet rs = ps.executeQuery()) {
      List<String> out = new ArrayList<>();
      while (rs.next()) out.add(rs.getString(1));
      return out;
    }
  }

  /**
   * The database {@code cluster/name}, created if missing, locked for the rest of the caller's transaction: on
   * PostgreSQL, uploads to one database from several instances queue here, and each then sees the others'
   * committed transactions (the embedded store has one writer anyway).
   */
  public static DbRow lockOrCreateDb(Connection c, String cluster, String name) throws SQLException {
    DbRow existing = lockDb(c, cluster, name); // the common case: one statement
    if (existing != null) return existing;
    PreparedStatement ps = Statements.prepare(c, "INSERT INTO databases (cluster, name, catalogued) VALUES (?, ?, 1)"
        + " ON CONFLICT (cluster, name) DO NOTHING");
    ps.setString(1, cluster);
    ps.setString(2, name);
    ps.executeUpdate();
    return lockDb(c, cluster, name);
  }

  /**
   * The lock of {@link #lockDb} on PostgreSQL: a row lock that writes no new version of the row (it conflicts with
   * every update of the row and with itself, not with the key-share locks of inserts that reference it).
   */
  static final String LOCK_DB_POSTGRES =
      "SELECT id, cluster, name, hwm FROM databases WHERE cluster = ? AND name = ? FOR NO KEY UPDATE";
  /** SQLite has no row locks; an update that changes nothing makes the transaction a writer, the one writer. */
  private static final String LOCK_DB_SQLITE =
      "UPDATE databases SET hwm = hwm WHERE cluster = ? AND name = ? RETURNING id, cluster, name, hwm";

  /** The database {@code cluster/name} locked for the rest of the caller's transaction, or null. */
  public static DbRow lockDb(Connection c, String cluster, String name) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, postgres(c) ? LOCK_DB_POSTGRES : LOCK_DB_SQLITE);
    ps.setString(1, cluster);
    ps.setString(2, name);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? dbRow(rs) : null;
    }
  }

  /** The newest transaction of a database, or null. */
  public static TxnRow latestTxn(Connection c, long dbId) throws SQLException {
    PreparedStatement ps = Statements.prepare(c,
        "SELECT " + TXN_COLUMNS + " FROM txns WHERE db_id = ? ORDER BY max_txid DESC LIMIT 1");
    ps.setLong(1, dbId);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? txnRow(rs) : null;
    }
  }

  /** The transaction ending at {@code maxTxid}, or null. */
  public static TxnRow txnByMax(Connection c, long dbId, long maxTxid) throws SQLException {
    PreparedStatement ps = Statements.prepare(c,
        "SELECT " + TXN_COLUMNS + " FROM txns WHERE db_id = ? AND max_txid = ?");
    ps.setLong(1, dbId);
    ps.setLong(2, maxTxid);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? txnRow(rs) : null;
    }
  }

  /** Transactions with MaxTXID ≥ {@code fromTxid}, oldest first. */
  public static List<TxnRow> txnsFrom(Connection c, long dbId, long fromTxid) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT " + TXN_COLUMNS + " FROM txns WHERE db_id = ? AND max_txid >= ? ORDER BY max_txid")) {
      ps.setLong(1, dbId);
      ps.setLong(2, fromTxid);
      List<TxnRow> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(txnRow(rs));
      }
      return out;
    }
  }

  /** MaxTXIDs of all local transactions of a database, ascending: the level-0 restore points. */
  public static List<Long> txnMaxTxids(Connection c, long dbId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT max_txid FROM txns WHERE db_id = ? ORDER BY max_txid")) {
      ps.setLong(1, dbId);
      List<Long> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(rs.getLong(1));
      }
      return out;
    }
  }

  static final String INSERT_TXN = "INSERT INTO txns (db_id, " + TXN_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

  /** Inserts a transaction row. */
  public static void insertTxn(Connection c, long dbId, TxnRow t) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, INSERT_TXN);
    bindTxn(ps, 1, dbId, t);
    ps.executeUpdate();
  }

  /** Binds the parameters of {@link #INSERT_TXN} from {@code first} on; returns the next parameter's index. */
  static int bindTxn(PreparedStatement ps, int first, long dbId, TxnRow t) throws SQLException {
    ps.setLong(first, dbId);
    ps.setLong(first + 1, t.minTxid());
    ps.setLong(first + 2, t.maxTxid());
    ps.setInt(first + 3, t.pageSize());
    ps.setLong(first + 4, Integer.toUnsignedLong(t.commit()));
    ps.setLong(first + 5, t.timestamp());
    ps.setLong(first + 6, t.receivedAt());
    ps.setLong(first + 7, t.preApplyChecksum());
    ps.setLong(first + 8, t.postApplyChecksum());
    return first + 9;
  }

  /** Raises the high-water mark (never lowers it). */
  public static void raiseHwm(Connection c, long dbId, long txid) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE databases SET hwm = CASE WHEN hwm < ? THEN ? ELSE hwm END WHERE id = ?")) {
      ps.setLong(1, txid);
      ps.setLong(2, txid);
      ps.setLong(3, dbId);
      ps.executeUpdate();
    }
  }

  /** A compaction request's row, bound by {@link #bindCompactionRequest}; what a pending one gets follows. */
  private static final String INSERT_REQUEST = "INSERT INTO compaction_requests (db_id, level, idempotency_key)"
      + " VALUES (?, ?, ?) ON CONFLICT (db_id, level)";
  static final String REQUEST_COMPACTION = INSERT_REQUEST
      + " DO UPDATE SET idempotency_key = excluded.idempotency_key";
  private static final String REQUEST_UNDER_LEASE = INSERT_REQUEST + " DO NOTHING";

  /**
   * Asks for a compaction of {@code level}; a request already pending gets a new key, so that a compaction
   * running now does not remove it (it must run again for what arrived meanwhile).
   */
  public static void requestCompaction(Connection c, long dbId, int level) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, REQUEST_COMPACTION);
    bindCompactionRequest(ps, 1, dbId, level);
    ps.executeUpdate();
  }

  /**
   * Asks for a compaction of {@code level} by the holder of the database's lease (a job asking for the next level's):
   * a request already pending is left as it is, since no job of that level can be running while the lease is held.
   * No new row version, unlike {@link #requestCompaction}.
   */
  public static void requestCompactionUnderLease(Connection c, long dbId, int level) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, REQUEST_UNDER_LEASE);
    bindCompactionRequest(ps, 1, dbId, level);
    ps.executeUpdate();
  }

  /** Binds the parameters of {@link #REQUEST_COMPACTION} from {@code first} on. */
  static void bindCompactionRequest(PreparedStatement ps, int first, long dbId, int level) throws SQLException {
    ps.setLong(first, dbId);
    ps.setInt(first + 1, level);
    ps.setLong(first + 2, ThreadLocalRandom.current().nextLong());
  }

  /**
   * Asks for a job of {@code level} for every database (requests already pending are kept): the daily snapshot
   * job also applies retention, which an idle database needs as much as a busy one.
   */
  public static void requestForEveryDatabase(Connection c, int level) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO compaction_requests (db_id, level, idempotency_key)"
        + " SELECT id, ?, ? FROM databases WHERE true ON CONFLICT (db_id, level) DO NOTHING")) {
      ps.setInt(1, level);
      ps.setLong(2, ThreadLocalRandom.current().nextLong());
      ps.executeUpdate();
    }
  }

  /** A pending compaction request, and the epoch of its database's lease when it was read (0: never leased). */
  public record CompactionRequest(DbRow db, int level, long key, long leaseEpoch) {}

  /** Pending requests for a level, by cluster and name. */
  public static List<CompactionRequest> compactionRequests(Connection c, int level) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT d.id, d.cluster, d.name, d.hwm, r.idempotency_key,"
        + " coalesce(l.epoch, 0) FROM compaction_requests r JOIN databases d ON d.id = r.db_id"
        + " LEFT JOIN leases l ON l.cluster = d.cluster AND l.name = d.name WHERE r.level = ?"
        + " ORDER BY d.cluster, d.name")) {
      ps.setInt(1, level);
      List<CompactionRequest> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(new CompactionRequest(dbRow(rs), level, rs.getLong(5), rs.getLong(6)));
      }
      return out;
    }
  }

  /** Removes a request if nobody renewed it since it was read. */
  public static void completeCompaction(Connection c, CompactionRequest r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "DELETE FROM compaction_requests WHERE db_id = ? AND level = ? AND idempotency_key = ?")) {
      ps.setLong(1, r.db().id());
      ps.setInt(2, r.level());
      ps.setLong(3, r.key());
      ps.executeUpdate();
    }
  }

  /**
   * A deleted database: until {@code removed}, its storage is still to be deleted (a {@code DELETE} or a crash cut
   * short); after, it is remembered for a while so that objects written there late can be swept.
   */
  public record Deletion(String cluster, String name, long deletedAt, boolean removed) {}

  /** The deleted databases remembered, by cluster and name. */
  public static List<Deletion> deletions(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT cluster, name, deleted_at, removed FROM deletions ORDER BY cluster, name");
        ResultSet rs = ps.executeQuery()) {
      List<Deletion> out = new ArrayList<>();
      while (rs.next()) out.add(new Deletion(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getInt(4) != 0));
      return out;
    }
  }

  /** The deletion of {@code cluster/name}, or null. */
  public static Deletion deletion(Connection c, String cluster, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT deleted_at, removed FROM deletions WHERE cluster = ? AND name = ?")) {
      ps.setString(1, cluster);
      ps.setString(2, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Deletion(cluster, name, rs.getLong(1), rs.getInt(2) != 0) : null;
      }
    }
  }

  /**
   * Whether the job of a request read when the database's lease was at {@code seenEpoch} may start, read before the
   * lease is taken: not while the storage of an earlier database of this name is still being removed, nor once an
   * instance other than {@code owner} took the lease since the request was read. Instances read the same requests
   * at the same boundaries, so that one most likely ran this very job a moment ago; leaving it costs this instance a
   * read instead of taking and releasing the lease.
   */
  public static boolean jobMayStart(Connection c, String cluster, String name, long seenEpoch, String owner)
      throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM deletions"
        + " WHERE cluster = ? AND name = ? AND removed = 0) AND NOT EXISTS (SELECT 1 FROM leases"
        + " WHERE cluster = ? AND name = ? AND epoch > ? AND owner <> ?)");
    ps.setString(1, cluster);
    ps.setString(2, name);
    ps.setString(3, cluster);
    ps.setString(4, name);
    ps.setLong(5, seenEpoch);
    ps.setString(6, owner);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /**
   * Removes a database's rows (transactions, pages, requests cascade) and records the deletion, its storage still to
   * be removed.
   */
  public static void deleteDb(Connection c, DbRow db, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM databases WHERE id = ?")) {
      ps.setLong(1, db.id());
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO deletions (cluster, name, deleted_at, removed)"
        + " VALUES (?, ?, ?, 0) ON CONFLICT (cluster, name) DO UPDATE SET deleted_at = excluded.deleted_at,"
        + " removed = 0")) {
      ps.setString(1, db.cluster());
      ps.setString(2, db.name());
      ps.setLong(3, now);
      ps.executeUpdate();
    }
  }

  /** Records that a deleted database's storage was removed. */
  public static void finishDeletion(Connection c, String cluster, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE deletions SET removed = 1 WHERE cluster = ? AND name = ?")) {
      ps.setString(1, cluster);
      ps.setString(2, name);
      ps.executeUpdate();
    }
  }

  /** Forgets a deleted database whose storage was removed (not one deleted again since). */
  public static void forgetDeletion(Connection c, String cluster, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "DELETE FROM deletions WHERE cluster = ? AND name = ? AND removed = 1")) {
      ps.setString(1, cluster);
      ps.setString(2, name);
      ps.executeUpdate();
    }
  }

  /** True when the cluster has at least one database. */
  public static boolean hasDatabases(Connection c, String cluster) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "SELECT 1 FROM databases WHERE cluster = ? LIMIT 1");
    ps.setString(1, cluster);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /** The LiteFS cluster ID the cluster is bound to, or null. */
  public static String clusterId(Connection c, String cluster) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "SELECT litefs_cluster_id FROM cluster_ids WHERE cluster = ?");
    ps.setString(1, cluster);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Binds the cluster to a LiteFS cluster ID. */
  public static void insertClusterId(Connection c, String cluster, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO cluster_ids (cluster, litefs_cluster_id) VALUES (?, ?)")) {
      ps.setString(1, cluster);
      ps.setString(2, id);
      ps.executeUpdate();
    }
  }

  /** Unbinds the cluster's LiteFS cluster ID if the cluster has no databases; returns the ID dropped, or null. */
  public static String deleteClusterIdIfEmpty(Connection c, String cluster) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM cluster_ids WHERE cluster = ?"
        + " AND NOT EXISTS (SELECT 1 FROM databases WHERE cluster = ?) RETURNING litefs_cluster_id")) {
      ps.setString(1, cluster);
      ps.setString(2, cluster);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /**
   * Level-0 retention after a flush up to {@code flushedMax}: finds the newest flushed transaction received before
   * {@code cutoffMillis} and forgets the history before it (older transactions, superseded page versions). States
   * from that transaction on stay restorable locally; older ones are in storage.
   */
  public static void enforceLevel0Retention(Connection c, long dbId, long flushedMax, long cutoffMillis)
      throws SQLException {
    long txid = 0, commit = 0;
    try (PreparedStatement ps = c.prepareStatement("SELECT max_txid, \"commit\" FROM txns WHERE db_id = ?"
        + " AND max_txid <= ? AND received_at < ? ORDER BY max_txid DESC LIMIT 1")) {
      ps.setLong(1, dbId);
      ps.setLong(2, flushedMax);
      ps.setLong(3, cutoffMillis);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) return;
        txid = rs.getLong(1);
        commit = rs.getLong(2);
      }
    }
    Pages.collapse(c, dbId, txid, commit);
  }

  // --- the catalogue of storage files ---------------------------------------------------------------------------

  private static final String FILE_COLUMNS = "level, min_txid, max_txid, size, created_at, page_size, \"commit\","
      + " timestamp, pre_apply_checksum, post_apply_checksum";

  /** The catalogued files of one level of a database, in TXID order. */
  public static List<LtxFileMeta> files(Connection c, long dbId, int level) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "SELECT " + FILE_COLUMNS + " FROM files WHERE db_id = ?"
        + " AND level = ? ORDER BY min_txid, max_txid");
    ps.setLong(1, dbId);
    ps.setInt(2, level);
    List<LtxFileMeta> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) out.add(fileMeta(rs));
    }
    return out;
  }

  /**
   * The newest TXID the catalogue holds at level 1 or above (snapshots included), 0 when none: where the next
   * level-1 file starts, as {@code LevelCompactor.storedThrough(1)} says, without listing every level. One index
   * probe per level for its newest file (a level's files do not overlap; snapshots all start at 1).
   */
  public static long storedThrough(Connection c, long dbId) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, STORED_THROUGH);
    for (int level = 1; level <= ReplicaClient.MAX_LEVEL; level++) ps.setLong(level, dbId);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  private static final String STORED_THROUGH = IntStream.rangeClosed(1, ReplicaClient.MAX_LEVEL)
      .mapToObj(level -> "SELECT (SELECT max_txid FROM files WHERE db_id = ? AND level = " + level
          + " ORDER BY min_txid DESC, max_txid DESC LIMIT 1) AS newest")
      .collect(Collectors.joining(" UNION ALL ", "SELECT coalesce(max(newest), 0) FROM (", ") AS l"));

  /** One catalogued file, or null. */
  public static LtxFileMeta file(Connection c, long dbId, int level, TxidRange range) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "SELECT " + FILE_COLUMNS + " FROM files WHERE db_id = ?"
        + " AND level = ? AND min_txid = ? AND max_txid = ?");
    ps.setLong(1, dbId);
    ps.setInt(2, level);
    ps.setLong(3, range.min());
    ps.setLong(4, range.max());
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? fileMeta(rs) : null;
    }
  }

  /** Records a stored file (replacing the row of an earlier file of the same name). */
  public static void insertFile(Connection c, long dbId, LtxFileMeta f) throws SQLException {
    PreparedStatement ps = Statements.prepare(c, "INSERT INTO files (db_id, " + FILE_COLUMNS + ")"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (db_id, level, min_txid, max_txid) DO UPDATE SET"
        + " size = excluded.size, created_at = excluded.created_at, page_size = excluded.page_size,"
        + " \"commit\" = excluded.\"commit\", timestamp = excluded.timestamp,"
        + " pre_apply_checksum = excluded.pre_apply_checksum, post_apply_checksum = excluded.post_apply_checksum");
    ps.setLong(1, dbId);
    ps.setInt(2, f.level());
    ps.setLong(3, f.minTxid());
    ps.setLong(4, f.maxTxid());
    ps.setLong(5, f.size());
    ps.setLong(6, f.createdAt() == null ? 0 : f.createdAt().toEpochMilli());
    ps.setInt(7, f.pageSize());
    ps.setLong(8, Integer.toUnsignedLong(f.commit()));
    ps.setLong(9, f.timestamp());
    ps.setLong(10, f.preApplyChecksum());
    ps.setLong(11, f.postApplyChecksum());
    ps.executeUpdate();
  }

  /** Forgets files of one level. */
  public static void deleteFiles(Connection c, long dbId, int level, Collection<TxidRange> ranges)
      throws SQLException {
    PreparedStatement ps = Statements.prepare(c,
        "DELETE FROM files WHERE db_id = ? AND level = ? AND min_txid = ? AND max_txid = ?");
    for (TxidRange r : ranges) {
      ps.setLong(1, dbId);
      ps.setInt(2, level);
      ps.setLong(3, r.min());
      ps.setLong(4, r.max());
      ps.addBatch();
    }
    ps.executeBatch();
  }

  /** Databases whose storage has not been catalogued yet (data directories from before the catalogue). */
  public static List<DbRow> uncatalogued(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT id, cluster, name, hwm FROM databases WHERE catalogued = 0 ORDER BY cluster, name")) {
      List<DbRow> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(dbRow(rs));
      }
      return out;
    }
  }

  /** Marks a database's storage as catalogued. */
  public static void markCatalogued(Connection c, long dbId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE databases SET catalogued = 1 WHERE id = ?")) {
      ps.setLong(1, dbId);
      ps.executeUpdate();
    }
  }

  private static LtxFileMeta fileMeta(ResultSet rs) throws SQLException {
    return new LtxFileMeta(rs.getInt(1), new TxidRange(rs.getLong(2), rs.getLong(3)), rs.getLong(4),
        Instant.ofEpochMilli(rs.getLong(5)), rs.getInt(6), (int) rs.getLong(7), rs.getLong(8), rs.getLong(9),
        rs.getLong(10));
  }

  static DbRow dbRow(ResultSet rs) throws SQLException {
    return new DbRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4));
  }

  static TxnRow txnRow(ResultSet rs) throws SQLException {
    return new TxnRow(rs.getLong(1), rs.getLong(2), rs.getInt(3), (int) rs.getLong(4), rs.getLong(5),
        rs.getLong(6), rs.getLong(7), rs.getLong(8));
  }
}
