package dev.strata.replica.litestream;

import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.restore.RestoreExecutor;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Replicas written by Litestream, recognised by their layout: 0.3's {@code generations/} or 0.5's {@code ltx/}
 * beside nothing of Strata's own ({@code 0/} … {@code 9/}). A root holding two layouts is refused, naming both.
 */
public final class Litestream {
  private Litestream() {}

  /** The Litestream layouts. */
  public enum Version {
    V03("Litestream 0.3", "generations/"),
    V05("Litestream 0.5", "ltx/");

    private final String label, dir;

    Version(String label, String dir) {
      this.label = label;
      this.dir = dir;
    }

    /** "Litestream 0.3". */
    public String label() {
      return label;
    }

    /** The directory that marks it. */
    public String dir() {
      return dir;
    }
  }

  /**
   * The Litestream layout under {@code root}, or null when it holds none (a Strata replica, or nothing). Two layouts
   * under one root are an error naming both.
   */
  public static Version detect(ReplicaClient root) throws IOException {
    List<String> children = root.listChildren();
    boolean v03 = children.contains("generations"), v05 = children.contains("ltx");
    List<String> strata = new ArrayList<>();
    for (String c : children) if (c.length() == 1 && Character.isDigit(c.charAt(0))) strata.add(c + "/");
    if (v03 && v05) {
      throw new IOException("replica " + root.location() + " holds two layouts, Litestream 0.3's generations/ and "
          + "Litestream 0.5's ltx/: refusing to guess (give the URL of one)");
    }
    if ((v03 || v05) && !strata.isEmpty()) {
      Version v = v03 ? Version.V03 : Version.V05;
      throw new IOException("replica " + root.location() + " holds two layouts, " + v.label() + "'s " + v.dir()
          + " and Strata's level directories " + String.join(", ", strata) + ": refusing to mix them");
    }
    return v03 ? Version.V03 : v05 ? Version.V05 : null;
  }

  /**
   * Refuses a replica URL that holds a Litestream layout as a place for Strata to write: the two would mix.
   * One LIST request.
   */
  public static void refuseAsTarget(ReplicaClient root) throws IOException {
    Version v = detect(root);
    if (v != null) {
      throw new IOException("replica " + root.location() + " holds a " + v.label() + " replica (" + v.dir()
          + "): Strata does not write beside it; convert it with `strata import " + root.location()
          + " NEW_URL` and replicate to NEW_URL");
    }
  }

  /**
   * What to restore: latest when all are null; {@code generation} and {@code index} are 0.3's, {@code txid} 0.5's.
   */
  public record Target(String generation, Integer index, Long txid, Instant time) {
    public static final Target LATEST = new Target(null, null, null, null);
  }

  /**
   * A planned restore of a Litestream replica.
   *
   * @param position where it ends, in the replica's own terms
   * @param files the files it reads, in order (paths under the root)
   * @param sizes their sizes
   * @param builder writes the database
   * @param checksummed writes it and gives its LTX database checksum (slower for 0.3: a CRC of every page)
   */
  public record Prepared(Version version, String position, Instant time, long txid, List<String> files,
      List<Long> sizes, RestoreExecutor.Builder builder, RestoreExecutor.Builder checksummed) {
    public long bytes() {
      return sizes.stream().mapToLong(Long::longValue).sum();
    }

    /** "Litestream 0.3 replica, generation …". */
    public String description() {
      return version.label() + " replica, " + position;
    }
  }

  /** Plans a restore of {@code root} (of layout {@code v}) to {@code t}; errors are one line naming the file. */
  public static Prepared prepare(ReplicaClient root, Version v, Target t) throws IOException {
    if (v == Version.V03) {
      if (t.txid() != null) {
        throw new IllegalArgumentException("-txid is for Strata and Litestream 0.5 replicas; a Litestream 0.3 "
            + "replica takes -generation and -index");
      }
      Ls03Replica r = Ls03Replica.open(root);
      return prepared03(r, r.plan(t.generation(), t.index(), t.time()));
    }
    if (t.generation() != null || t.index() != null) {
      throw new IllegalArgumentException("-generation and -index are for Litestream 0.3 replicas; this is a "
          + "Litestream 0.5 replica (use -txid or -timestamp)");
    }
    Ls05Replica r = Ls05Replica.open(root);
    return prepared05(r, r.plan(t.txid(), t.time()));
  }

  static Prepared prepared03(Ls03Replica r, Ls03Replica.Plan p) {
    List<String> files = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    files.add(p.snapshot().path());
    sizes.add(p.snapshot().size());
    for (Ls03Replica.Segment s : p.segments()) {
      files.add(s.path());
      sizes.add(s.size());
    }
    return new Prepared(Version.V03, p.position(), p.time(), 0, files, sizes, tmp -> r.build(p, tmp),
        tmp -> r.build(p, tmp, true));
  }

  static Prepared prepared05(Ls05Replica r, Ls05Replica.Plan p) {
    List<String> files = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    for (LtxFileMeta f : p.files()) {
      files.add("ltx/" + f.path());
      sizes.add(f.size());
    }
    return new Prepared(Version.V05, p.position(), Instant.ofEpochMilli(p.timestamp()), p.txid(), files, sizes,
        tmp -> r.build(p, tmp), tmp -> r.build(p, tmp));
  }

  /** What an import sees at each restore point: the working database as it is there. */
  public interface PointVisitor {
    /**
     * Called at each point with the pages written since the previous point ({@code null}: every page, after a
     * snapshot) and the database size in pages.
     */
    void visit(String position, Instant time, java.nio.channels.FileChannel db, int pageSize,
        java.util.BitSet touched, long commitPages) throws IOException;
  }

  /** Walks every restore point of the replica in order, applying each file once to the working file {@code work}. */
  public static void walk(ReplicaClient root, Version v, java.nio.file.Path work, PointVisitor visitor)
      throws IOException {
    if (v == Version.V03) Ls03Replica.open(root).walk(work, visitor);
    else Ls05Replica.open(root).walk(work, visitor);
  }

  /** Every restore point of the replica, oldest first. */
  public static List<Prepared> points(ReplicaClient root, Version v) throws IOException {
    List<Prepared> out = new ArrayList<>();
    if (v == Version.V03) {
      Ls03Replica r = Ls03Replica.open(root);
      for (Ls03Replica.Plan p : r.points()) out.add(prepared03(r, p));
    } else {
      Ls05Replica r = Ls05Replica.open(root);
      for (Ls05Replica.Plan p : r.points()) out.add(prepared05(r, p));
    }
    return out;
  }

  /** The snapshots of the replica, oldest first. */
  public static List<Prepared> snapshots(ReplicaClient root, Version v) throws IOException {
    List<Prepared> out = new ArrayList<>();
    if (v == Version.V03) {
      Ls03Replica r = Ls03Replica.open(root);
      for (Ls03Replica.Generation g : r.generations()) {
        for (Ls03Replica.Snapshot s : g.snapshots()) out.add(prepared03(r, new Ls03Replica.Plan(g, s, List.of())));
      }
      out.sort(java.util.Comparator.comparing(Prepared::time));
    } else {
      Ls05Replica r = Ls05Replica.open(root);
      for (LtxFileMeta f : r.files(ReplicaClient.MAX_LEVEL)) {
        out.add(prepared05(r, new Ls05Replica.Plan(List.of(f))));
      }
    }
    return out;
  }

  /** "TXID …" or the 0.3 position, for one line of output. */
  static String txid(long t) {
    return Txid.format(t);
  }
}
