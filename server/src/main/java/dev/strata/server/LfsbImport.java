package dev.strata.server;

import dev.strata.server.store.MetadataStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.sqlite.SQLiteConfig;
import org.slf4j.LoggerFactory;

/**
 * {@code strata serve --import-lfsb LFSB_DATA_PATH}: adopts a litefs-backup deployment. Its storage layout is this
 * server's ({@code <cluster>/<database>/<level>/<min>-<max>.ltx}, spec §4.7), so the bucket stays as it is; its
 * metadata database (spec §4.2: databases, level-0 transactions and pages, compaction requests) is copied into this
 * server's store, positions intact, so that a LiteFS node pointed here continues without a new snapshot. The
 * adopted databases' storage is catalogued at the same start, from one listing.
 *
 * <p>Run again, it skips the databases this server already has: a flag left in a service definition is harmless.
 * litefs-backup must be stopped first (its newest transactions are only in its metadata database).
 */
final class LfsbImport {
  private static final Logger log = LoggerFactory.getLogger(LfsbImport.class);

  private LfsbImport() {}

  /** litefs-backup's metadata database: {@code dirname(LFSB_DATA_PATH)/server.db}, as Go's filepath.Dir finds it. */
  static Path metadataFile(Path lfsbDataPath) {
    String text = lfsbDataPath.toString();
    Path dir = text.endsWith("/") ? lfsbDataPath : lfsbDataPath.toAbsolutePath().getParent();
    return dir.resolve("server.db");
  }

  /** Copies every database of the litefs-backup metadata that {@code store} does not hold yet; returns how many. */
  static int adopt(Path lfsbDataPath, MetadataStore store) throws IOException {
    Path file = metadataFile(lfsbDataPath);
    if (!Files.isRegularFile(file)) {
      throw new IOException("--import-lfsb: no litefs-backup metadata database at " + file
          + " (it is dirname(LFSB_DATA_PATH)/server.db)");
    }
    SQLiteConfig readOnly = new SQLiteConfig();
    readOnly.setReadOnly(true);
    try (Connection lfsb = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(),
        readOnly.toProperties())) {
      lfsb.setAutoCommit(false); // one read transaction: one consistent state
      List<long[]> ids = new ArrayList<>();
      List<String[]> names = new ArrayList<>();
      try (PreparedStatement ps = lfsb.prepareStatement("SELECT id, cluster, name, hwm FROM databases ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(new long[] {rs.getLong(1), rs.getLong(4)});
          names.add(new String[] {rs.getString(2), rs.getString(3)});
        }
      }
      int adopted = 0;
      for (int i = 0; i < ids.size(); i++) {
        long lfsbId = ids.get(i)[0], hwm = ids.get(i)[1];
        String cluster = names.get(i)[0], name = names.get(i)[1];
        boolean done = store.write(c -> copyDatabase(lfsb, lfsbId, cluster, name, hwm, c));
        if (done) {
          adopted++;
          log.info("adopted litefs-backup database {}/{}", cluster, name);
        } else {
          log.info("litefs-backup database {}/{} is already here: skipped", cluster, name);
        }
      }
      lfsb.rollback();
      return adopted;
    } catch (SQLException e) {
      throw new IOException("--import-lfsb: reading " + file + ": " + e.getMessage(), e);
    }
  }

  /** One database's rows, in the caller's write transaction; false when this store already has the database. */
  private static boolean copyDatabase(Connection lfsb, long lfsbId, String cluster, String name, long hwm,
      Connection c) throws SQLException, IOException {
    long id;
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO databases (cluster, name, hwm, catalogued)"
        + " VALUES (?, ?, ?, 0) ON CONFLICT (cluster, name) DO NOTHING RETURNING id")) {
      ps.setString(1, cluster);
      ps.setString(2, name);
      ps.setLong(3, hwm);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) return false;
        id = rs.getLong(1);
      }
    }
    try (PreparedStatement read = lfsb.prepareStatement("SELECT min_txid, max_txid, page_size, \"commit\", timestamp,"
        + " pre_apply_checksum, post_apply_checksum FROM txns WHERE db_id = ? ORDER BY max_txid");
        PreparedStatement write = c.prepareStatement("INSERT INTO txns (db_id, min_txid, max_txid, page_size,"
            + " \"commit\", timestamp, received_at, pre_apply_checksum, post_apply_checksum)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      read.setLong(1, lfsbId);
      try (ResultSet rs = read.executeQuery()) {
        while (rs.next()) {
          long ts = millis(rs.getString(5), cluster, name);
          write.setLong(1, id);
          write.setLong(2, rs.getLong(1));
          write.setLong(3, rs.getLong(2));
          write.setInt(4, rs.getInt(3));
          write.setLong(5, rs.getLong(4));
          write.setLong(6, ts);
          write.setLong(7, ts); // level-0 retention counts from here, as litefs-backup counted from the timestamp
          write.setLong(8, checksum(rs.getBytes(6)));
          write.setLong(9, checksum(rs.getBytes(7)));
          write.addBatch();
        }
      }
      write.executeBatch();
    }
    try (PreparedStatement read = lfsb.prepareStatement(
        "SELECT pgno, min_txid, max_txid, chksum, data FROM pages WHERE db_id = ? ORDER BY pgno, max_txid");
        PreparedStatement write = c.prepareStatement("INSERT INTO pages (db_id, pgno, min_txid, max_txid, chksum,"
            + " data) VALUES (?, ?, ?, ?, ?, ?)")) {
      read.setLong(1, lfsbId);
      int batched = 0;
      try (ResultSet rs = read.executeQuery()) {
        while (rs.next()) {
          write.setLong(1, id);
          write.setLong(2, rs.getLong(1));
          write.setLong(3, rs.getLong(2));
          write.setLong(4, rs.getLong(3));
          write.setLong(5, checksum(rs.getBytes(4)));
          write.setBytes(6, rs.getBytes(5));
          write.addBatch();
          if (++batched % 1000 == 0) write.executeBatch();
        }
      }
      write.executeBatch();
    }
    try (PreparedStatement read = lfsb.prepareStatement(
        "SELECT level, idempotency_key FROM compaction_requests WHERE db_id = ?");
        PreparedStatement write = c.prepareStatement(
            "INSERT INTO compaction_requests (db_id, level, idempotency_key) VALUES (?, ?, ?)")) {
      read.setLong(1, lfsbId);
      try (ResultSet rs = read.executeQuery()) {
        while (rs.next()) {
          write.setLong(1, id);
          write.setInt(2, rs.getInt(1));
          write.setLong(3, rs.getLong(2));
          write.addBatch();
        }
      }
      write.executeBatch();
    }
    return true;
  }

  /** litefs-backup's checksums: 8 bytes big-endian, 0 stored as NULL. */
  private static long checksum(byte[] blob) {
    if (blob == null) return 0;
    if (blob.length != 8) throw new IllegalArgumentException("checksum of " + blob.length + " bytes, want 8");
    return ByteBuffer.wrap(blob).getLong();
  }

  /** litefs-backup's timestamps: RFC 3339 with milliseconds, UTC. */
  private static long millis(String text, String cluster, String name) throws IOException {
    try {
      return Instant.parse(text).toEpochMilli();
    } catch (DateTimeParseException | NullPointerException e) {
      throw new IOException("--import-lfsb: " + cluster + "/" + name + " has a transaction timestamp that is not"
          + " RFC 3339: " + text);
    }
  }
}
