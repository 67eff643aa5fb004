package dev.strata.bench.torture;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The SQLite database of one LiteFS primary, as LiteFS sees it: a real SQLite file (rollback journal, so that the
 * file alone holds each committed state) whose pages the harness reads after every commit. The pages that changed
 * become that TXID's LTX file, with the rolling database checksum carried forward exactly as LiteFS does; the
 * SHA-256 of the whole image is the oracle's digest of that TXID.
 */
final class NodeDatabase implements AutoCloseable {
  /** The state after one TXID: what the oracle records and what an export at that TXID must equal. */
  record State(long txid, String sha256, long checksum, int commit, long timestamp) {
    Pos pos() {
      return new Pos(txid, checksum);
    }
  }

  /** One local transaction: its state and its LTX file. */
  record Txn(State state, byte[] ltx) {}

  private final Path file;
  private final int pageSize;
  private Connection conn;
  /** Page {@code p} is {@code pages.get(p - 1)}. */
  private final List<byte[]> pages = new ArrayList<>();
  private final List<Long> sums = new ArrayList<>();
  private long txid;
  private long checksum;
  private State state;

  private NodeDatabase(Path file, int pageSize) {
    this.file = file;
    this.pageSize = pageSize;
  }

  /** Creates the database file (auto_vacuum=FULL, so deletes shrink it); nothing is committed as a TXID yet. */
  static NodeDatabase create(Path file, int pageSize) throws IOException {
    Files.deleteIfExists(file);
    NodeDatabase db = new NodeDatabase(file, pageSize);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
      st.execute("PRAGMA page_size=" + pageSize);
      st.execute("PRAGMA auto_vacuum=FULL");
      st.execute("PRAGMA journal_mode=DELETE");
      st.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, gen INTEGER NOT NULL, body BLOB NOT NULL)");
    } catch (SQLException e) {
      throw new IOException("create " + file + ": " + e.getMessage(), e);
    }
    db.open();
    return db;
  }

  private void open() throws IOException {
    try {
      conn = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement st = conn.createStatement()) {
        st.execute("PRAGMA journal_mode=DELETE");
        st.execute("PRAGMA synchronous=OFF"); // the harness never crashes under its own databases
      }
      conn.setAutoCommit(false);
    } catch (SQLException e) {
      throw new IOException("open " + file + ": " + e.getMessage(), e);
    }
  }

  int pageSize() {
    return pageSize;
  }

  /** Pages in the database now. */
  int commit() {
    return pages.size();
  }

  Pos pos() {
    return new Pos(txid, checksum);
  }

  /** The state after the last TXID (null before the first commit). */
  State state() {
    return state;
  }

  /** The connection the workload runs its statements on (autocommit off). */
  Connection connection() {
    return conn;
  }

  /**
   * Commits what the workload did on {@link #connection()} as TXID {@code pos().txid() + 1}, stamped
   * {@code timestamp}; the first TXID is a snapshot.
   */
  Txn commit(long timestamp) throws IOException {
    try {
      conn.commit();
    } catch (SQLException e) {
      throw new IOException("commit " + file + ": " + e.getMessage(), e);
    }
    byte[] image = Files.readAllBytes(file);
    if (image.length % pageSize != 0) throw new IOException(file + ": size " + image.length + " is not whole pages");
    int newCommit = image.length / pageSize;
    long pre = checksum;
    long min = txid + 1;
    List<Integer> changed = new ArrayList<>();
    for (int p = 1; p <= newCommit; p++) {
      byte[] page = Arrays.copyOfRange(image, (p - 1) * pageSize, p * pageSize);
      if (p <= pages.size() && Arrays.equals(pages.get(p - 1), page)) continue;
      long sum = Checksum.ofPage(p, page);
      if (p <= pages.size()) {
        pages.set(p - 1, page);
        sums.set(p - 1, sum);
      } else {
        pages.add(page);
        sums.add(sum);
      }
      changed.add(p);
    }
    while (pages.size() > newCommit) {
      pages.removeLast();
      sums.removeLast();
    }
    txid = min;
    checksum = databaseChecksum();
    state = new State(txid, sha256(image), checksum, newCommit, timestamp);
    if (min == 1) return new Txn(state, snapshot(timestamp));
    LtxHeader h = LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, pageSize, newCommit, min, min, timestamp, pre);
    return new Txn(state, encode(h, changed));
  }

  /** Rolls back whatever the workload left uncommitted (after it failed half-way). */
  void rollback() {
    try {
      conn.rollback();
    } catch (SQLException e) {
      // the next commit reports the database's state
    }
  }

  /** The current state as an LTX snapshot (TXIDs 1..current), as LiteFS sends on first contact. */
  byte[] snapshot(long timestamp) throws IOException {
    List<Integer> all = new ArrayList<>();
    for (int p = 1; p <= pages.size(); p++) all.add(p);
    return encode(LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, pageSize, pages.size(), 1, txid, timestamp, 0), all);
  }

  /**
   * A well-formed transaction that rewrites {@code n} pages with their current content: applied at the current
   * position it changes nothing, so its header can be bent into a stale or misplaced upload.
   */
  byte[] noChange(int n, long minTxid, long preApplyChecksum, long timestamp) throws IOException {
    List<Integer> some = new ArrayList<>();
    for (int p = 1; p <= Math.min(n, pages.size()); p++) some.add(p);
    LtxHeader h = LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, pageSize, pages.size(), minTxid, minTxid, timestamp,
        preApplyChecksum);
    return encode(h, some, preApplyChecksum);
  }

  /**
   * Replaces the database with the server's state (LiteFS applying {@code GET /db/snapshot}): the file is
   * rewritten with {@code newPages} (page 1 first) and reopened. Returns the state it now holds.
   */
  State replace(Map<Integer, byte[]> newPages, int newCommit, long newTxid, long timestamp) throws IOException {
    try {
      conn.rollback();
      conn.close();
    } catch (SQLException e) {
      throw new IOException("close " + file + ": " + e.getMessage(), e);
    }
    pages.clear();
    sums.clear();
    byte[] zero = new byte[pageSize];
    ByteArrayOutputStream image = new ByteArrayOutputStream(newCommit * pageSize);
    for (int p = 1; p <= newCommit; p++) {
      byte[] page = newPages.getOrDefault(p, zero);
      pages.add(page);
      sums.add(Checksum.ofPage(p, page));
      image.writeBytes(page);
    }
    byte[] bytes = image.toByteArray();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap(bytes));
    }
    Files.deleteIfExists(Path.of(file + "-journal"));
    txid = newTxid;
    checksum = databaseChecksum();
    open();
    state = new State(txid, sha256(bytes), checksum, newCommit, timestamp);
    return state;
  }

  private long databaseChecksum() {
    long c = Checksum.EMPTY_DATABASE;
    int lock = LtxHeader.lockPgno(pageSize);
    for (int p = 1; p <= sums.size(); p++) if (p != lock) c = Checksum.roll(c, 0, sums.get(p - 1));
    return c;
  }

  private byte[] encode(LtxHeader h, List<Integer> pgnos) throws IOException {
    return encode(h, pgnos, checksum);
  }

  private byte[] encode(LtxHeader h, List<Integer> pgnos, long post) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(out, h);
    for (int p : pgnos) enc.encodePage(p, pages.get(p - 1));
    enc.finish(post);
    return out.toByteArray();
  }

  /** Hex SHA-256 of a database image. */
  static String sha256(byte[] image) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      conn.close();
    } catch (SQLException e) {
      // closing anyway
    }
  }
}
