package dev.strata.bench.torture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

/**
 * What the application on a LiteFS node does in one transaction: mostly a few inserts, updates and deletes of
 * random blobs (several pages change), now and then a burst that grows the file by dozens of pages, or a mass
 * delete that shrinks it (auto_vacuum=FULL truncates at commit). The file stays under {@code maxPages}.
 */
final class Workload {
  private final Random rng;
  private final int maxPages;
  private long gen;

  Workload(long seed, int maxPages) {
    this.rng = new Random(seed);
    this.maxPages = maxPages;
  }

  /** Runs one transaction's statements (not the commit); {@code pages} is the database's size before. */
  String run(Connection c, int pages) throws SQLException {
    gen++;
    int roll = rng.nextInt(100);
    if (pages > maxPages || roll < 4 && pages > maxPages / 4) return shrink(c);
    if (roll < 10) return grow(c);
    return small(c);
  }

  private String small(Connection c) throws SQLException {
    int inserts = rng.nextInt(4), updates = 1 + rng.nextInt(4), deletes = rng.nextInt(3) == 0 ? 1 : 0;
    insert(c, inserts, 50, 1500);
    long rows = rows(c);
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE t SET gen = ?, body = ? WHERE id = (SELECT id FROM t ORDER BY id LIMIT 1 OFFSET ?)")) {
      for (int i = 0; i < updates && rows > 0; i++) {
        ps.setLong(1, gen);
        ps.setBytes(2, blob(20, 2000));
        ps.setLong(3, rng.nextLong(rows));
        ps.executeUpdate();
      }
    }
    if (deletes > 0 && rows > 0) {
      try (PreparedStatement ps = c.prepareStatement(
          "DELETE FROM t WHERE id = (SELECT id FROM t ORDER BY id LIMIT 1 OFFSET ?)")) {
        ps.setLong(1, rng.nextLong(rows));
        ps.executeUpdate();
      }
    }
    return "small";
  }

  private String grow(Connection c) throws SQLException {
    insert(c, 10 + rng.nextInt(40), 500, 3000);
    return "grow";
  }

  private String shrink(Connection c) throws SQLException {
    // Every choice comes from the seed (not SQLite's random()), so the simulated weeks replay exactly.
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM t WHERE (id * ? + ?) % 100 < ?")) {
      ps.setLong(1, 1 + 2 * rng.nextInt(50));
      ps.setLong(2, rng.nextInt(100));
      ps.setLong(3, 30 + rng.nextInt(50));
      ps.executeUpdate();
    }
    return "shrink";
  }

  private static long rows(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM t")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  private void insert(Connection c, int n, int minBytes, int maxBytes) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO t(gen, body) VALUES (?, ?)")) {
      for (int i = 0; i < n; i++) {
        ps.setLong(1, gen);
        ps.setBytes(2, blob(minBytes, maxBytes));
        ps.executeUpdate();
      }
    }
  }

  private byte[] blob(int min, int max) {
    byte[] b = new byte[min + rng.nextInt(max - min + 1)];
    rng.nextBytes(b);
    return b;
  }
}
