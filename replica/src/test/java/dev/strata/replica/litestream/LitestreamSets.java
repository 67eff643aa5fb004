package dev.strata.replica.litestream;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.DirectoryTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The golden Litestream replica sets of {@code ../shared/testdata/litestream-replicas}: their oracle, the expected
 * restores of their MANIFEST.md, and the canonical digest of their writer ({@code writer.py}).
 */
public final class LitestreamSets {
  private LitestreamSets() {}

  /** The shared directory, as the other golden-file tests find it. */
  public static Path shared() {
    String prop = System.getProperty("strata.shared");
    Path p = prop != null ? Path.of(prop) : Path.of("../../shared");
    if (!Files.isDirectory(p)) p = Path.of("../shared");
    return p.toAbsolutePath().normalize();
  }

  /** A set's directory. */
  public static Path set(String name) {
    return shared().resolve("testdata/litestream-replicas").resolve(name);
  }

  /** One committed transaction of the oracle. */
  public record Commit(int seq, long utcMs, int rows, String sha256) {}

  /** One expected restore of a MANIFEST.md table: {@code time} null for latest. */
  public record Expected(Instant time, int rows, String sha256) {}

  public static List<Commit> oracle(String set) throws IOException {
    List<Commit> out = new ArrayList<>();
    for (String line : Files.readAllLines(set(set).resolve("oracle.tsv"))) {
      if (line.startsWith("#") || line.startsWith("seq")) continue;
      String[] f = line.split("\t", -1);
      out.add(new Commit(Integer.parseInt(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[3]), f[4]));
    }
    return out;
  }

  /** The rows of the "Expected restores" table. */
  public static List<Expected> expected(String set) throws IOException {
    List<Expected> out = new ArrayList<>();
    for (String line : Files.readAllLines(set(set).resolve("MANIFEST.md"))) {
      if (!line.startsWith("| 20") && !line.startsWith("| latest")) continue;
      String[] c = line.split("\\|");
      String sha = null;
      int rows = -1;
      for (int i = 1; i < c.length; i++) {
        String v = c[i].strip();
        if (v.matches("`[0-9a-f]{64}`")) {
          sha = v.substring(1, 65);
          rows = Integer.parseInt(c[i - 1].strip());
        }
      }
      String t = c[1].strip();
      out.add(new Expected(t.startsWith("latest") ? null : Instant.parse(t), rows, sha));
    }
    return out;
  }

  /** The writer's canonical digest and row count of a database (see writer.py). */
  public static Digest digest(Path db) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
        Statement st = c.createStatement()) {
      MessageDigest h = MessageDigest.getInstance("SHA-256");
      List<String[]> ents = new ArrayList<>();
      try (ResultSet r = st.executeQuery("SELECT type, name, tbl_name, sql FROM sqlite_master "
          + "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_litestream%' ESCAPE '\\' "
          + "ORDER BY type, name")) {
        while (r.next()) ents.add(new String[] {r.getString(1), r.getString(2), r.getString(3), r.getString(4)});
      }
      for (String[] e : ents) {
        h.update(("S|" + e[0] + "|" + e[1] + "|" + e[2] + "|" + (e[3] == null ? "" : e[3]) + "\n")
            .getBytes(StandardCharsets.UTF_8));
      }
      int rows = 0;
      for (String[] e : ents) {
        if (!e[0].equals("table")) continue;
        try (ResultSet r = st.executeQuery("SELECT * FROM \"" + e[1] + "\" ORDER BY id")) {
          int n = r.getMetaData().getColumnCount();
          while (r.next()) {
            rows++;
            StringBuilder sb = new StringBuilder("R|").append(e[1]).append('|');
            for (int i = 1; i <= n; i++) {
              if (i > 1) sb.append('|');
              Object v = r.getObject(i);
              if (v == null) sb.append('N');
              else if (v instanceof Integer || v instanceof Long) sb.append('I').append(v);
              else if (v instanceof String s) sb.append('T').append(s.getBytes(StandardCharsets.UTF_8).length)
                  .append(':').append(s);
              else if (v instanceof byte[] b) sb.append('B').append(HexFormat.of().formatHex(b));
              else throw new IllegalStateException("unexpected value " + v.getClass());
            }
            h.update((sb + "\n").getBytes(StandardCharsets.UTF_8));
          }
        }
      }
      return new Digest(HexFormat.of().formatHex(h.digest()), rows);
    } catch (SQLException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("digest of " + db + ": " + e.getMessage(), e);
    }
  }

  public record Digest(String sha256, int rows) {}

  /** Copies a set's replica directory into {@code dir}/replica (writable, for damage and for times). */
  public static Path copyReplica(String set, Path dir) throws IOException {
    Path src = set(set).resolve("replica"), dst = dir.resolve("replica");
    try (Stream<Path> all = Files.walk(src)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(t);
        else Files.copy(p, t);
      }
    }
    return dst;
  }

  /**
   * Gives the files of a copied Litestream 0.3 replica the modification times Litestream's writes had: the shared
   * copy lost them (every file has the time it was copied), and 0.3 keeps no other time. Each WAL segment gets the
   * time of the oracle commit whose state it completes (plus 300 ms: written within the 1 s sync interval), found
   * by restoring to the end of that segment and matching the writer's digest; snapshots likewise.
   */
  public static void restoreTimes(ReplicaClient client, Path replica, List<Commit> oracle, Path scratch)
      throws IOException {
    Ls03Replica r = Ls03Replica.open(client);
    int from = 0;
    long last = oracle.getFirst().utcMs() - 1000;
    int n = 0;
    for (Ls03Replica.Plan p : r.points()) {
      Path tmp = scratch.resolve("point-" + n++ + ".db");
      r.build(p, tmp);
      Digest d = digest(tmp);
      Files.delete(tmp);
      int found = -1;
      for (int i = from; i < oracle.size(); i++) {
        if (oracle.get(i).sha256().equals(d.sha256())) {
          found = i;
          break;
        }
      }
      long t;
      if (found >= 0) {
        from = found;
        t = Math.max(last, oracle.get(found).utcMs() + 300);
      } else {
        t = last; // a state before the first commit (an empty database)
      }
      last = t;
      Files.setLastModifiedTime(replica.resolve(p.lastPath()), FileTime.fromMillis(t));
    }
  }

  /** Deletes a directory tree. */
  public static void delete(Path dir) {
    try {
      DirectoryTree.delete(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
