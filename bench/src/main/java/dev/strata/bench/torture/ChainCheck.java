package dev.strata.bench.torture;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.LevelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads every LTX file of a replica (while no agent writes it), verifies each one's checksums with
 * {@link LtxDecoder}, and checks invariant 1: the files chain.
 *
 * <p>A file applies at position (MinTXID−1, PreApplyChecksum) and leads to (MaxTXID, PostApplyChecksum); a snapshot
 * (MinTXID 1) applies to nothing. Starting from the snapshots, a file is reachable when a reachable file ends
 * exactly at its MinTXID−1 with PostApplyChecksum = its PreApplyChecksum, or (compacted levels overlap) when a
 * reachable file ends inside its range: it holds every page changed from there on, as {@code RestorePlanner}
 * also assumes. Required: every restore point (file end) after the oldest snapshot is reachable; no two files
 * that end at the same TXID disagree on the checksum there (one TXID, one database state); each file's header
 * matches its name. A file that is not reachable itself but whose end position is (with its checksum) is
 * superseded, not a break: retention removed the level-0 files before it once a level-1 file ending at the same
 * TXID held them (their own restore points expired), and removes it on its next pass. Files older than every
 * snapshot may have lost their predecessors to retention and are only counted.
 */
final class ChainCheck {
  /** One verified file. */
  record FileView(int level, LtxFileInfo info, long size) {
    long min() {
      return info.header().minTxid();
    }

    long max() {
      return info.header().maxTxid();
    }

    Pos start() {
      return info.header().preApplyPos();
    }

    Pos end() {
      return new Pos(max(), info.trailer().postApplyChecksum());
    }

    String name() {
      return level + "/" + Txid.format(min()) + "-" + Txid.format(max());
    }
  }

  /** A TXID one can restore to: its position, the newest header timestamp among files ending there, levels. */
  record RestorePoint(long txid, long postApplyChecksum, long timestamp, Set<Integer> levels) {
    /** The same point seen twice (two files, or two checks): levels merged, the newest timestamp kept. */
    RestorePoint merge(RestorePoint other) {
      return new RestorePoint(txid, postApplyChecksum, Math.max(timestamp, other.timestamp),
          union(levels, other.levels));
    }
  }

  /** What a check found. */
  record Report(List<FileView> files, List<String> problems, TreeMap<Long, RestorePoint> restorePoints,
      int unreachableBeforeSnapshot, int superseded, List<FileView> broken, int overlapJoins) {
    boolean ok() {
      return problems.isEmpty();
    }

    /** The highest restorable TXID, or 0. */
    long maxTxid() {
      return restorePoints.isEmpty() ? 0 : restorePoints.lastKey();
    }

    /** Files per level, e.g. "L0=12 L1=3 L9=1". */
    String levelCounts() {
      Map<Integer, Integer> n = new TreeMap<>();
      for (FileView f : files) n.merge(f.level(), 1, Integer::sum);
      StringBuilder sb = new StringBuilder();
      n.forEach((l, c) -> sb.append(sb.isEmpty() ? "" : " ").append("L").append(l).append('=').append(c));
      return sb.toString();
    }
  }

  private ChainCheck() {}

  /** Reads and checks every file of every level. */
  static Report check(ReplicaClient replica) throws IOException {
    List<FileView> files = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) {
      for (LtxFileMeta meta : replica.listFiles(level)) {
        String name = level + "/" + meta.fileName();
        try (InputStream in = replica.openFile(level, meta.range(), 0)) {
          LtxFileInfo info = LtxDecoder.verify(in);
          var h = info.header();
          if (h.minTxid() != meta.minTxid() || h.maxTxid() != meta.maxTxid()) {
            problems.add(name + ": header says " + Txid.format(h.minTxid()) + "-" + Txid.format(h.maxTxid()));
          }
          if (level == ReplicaClient.MAX_LEVEL && !h.isSnapshot()) {
            problems.add(name + ": level 9 holds a file that is not a snapshot");
          }
          files.add(new FileView(level, info, meta.size()));
        } catch (IOException e) {
          problems.add(name + ": " + e.getMessage());
        }
      }
    }
    files.sort(Comparator.comparingLong(FileView::min).thenComparingInt(FileView::level));

    // One TXID, one state.
    Map<Long, FileView> endAt = new HashMap<>();
    for (FileView f : files) {
      FileView other = endAt.putIfAbsent(f.max(), f);
      if (other != null && other.end().postApplyChecksum() != f.end().postApplyChecksum()) {
        problems.add("conflicting states at TXID " + Txid.format(f.max()) + ": " + other.name() + " ends at "
            + Checksum.format(other.end().postApplyChecksum()) + ", " + f.name() + " at "
            + Checksum.format(f.end().postApplyChecksum()));
      }
    }

    long oldestSnapshotEnd = files.stream().filter(f -> f.min() == 1).mapToLong(FileView::max).min()
        .orElse(Long.MAX_VALUE);
    // Reachable positions, to a fixpoint. A file joins exactly (its pre-apply position is reachable: proven by the
    // checksums) or by overlap (a reachable TXID inside its range: its pages hold every change from there to its
    // end, so the merge is right, which restore's final checksum then proves, as RestorePlanner does).
    Map<Long, Set<Long>> reachable = new HashMap<>(); // txid -> checksums reached there
    Set<FileView> reached = new HashSet<>();
    int overlapJoins = 0;
    for (boolean grew = true; grew; ) {
      grew = false;
      for (FileView f : files) {
        if (reached.contains(f)) continue;
        boolean exact = f.min() == 1 || reachable.getOrDefault(f.min() - 1, Set.of()).contains(f.start().postApplyChecksum());
        boolean overlap = !exact && reachable.keySet().stream().anyMatch(t -> t >= f.min() && t < f.max());
        if (exact || overlap) {
          reached.add(f);
          reachable.computeIfAbsent(f.max(), k -> new HashSet<>()).add(f.end().postApplyChecksum());
          if (overlap) overlapJoins++;
          grew = true;
        }
      }
    }
    TreeMap<Long, RestorePoint> points = new TreeMap<>();
    List<FileView> broken = new ArrayList<>();
    int unreachableOld = 0, superseded = 0;
    for (FileView f : files) {
      if (reached.contains(f)) {
        points.merge(f.max(), new RestorePoint(f.max(), f.end().postApplyChecksum(), f.info().header().timestamp(),
            Set.of(f.level())), RestorePoint::merge);
      } else if (f.min() <= oldestSnapshotEnd) {
        unreachableOld++;
      } else if (reachable.getOrDefault(f.max(), Set.of()).contains(f.end().postApplyChecksum())
          && !reachable.containsKey(f.min() - 1)) {
        // Its restore point is reached through other files; its start is no reachable position (a reachable
        // position there with another checksum would be a break: the files disagree).
        superseded++;
      } else {
        broken.add(f);
        problems.add("chain break: " + f.name() + " applies at " + f.start() + " but no file reaches that position"
            + " or a TXID inside its range" + nearest(files, f));
      }
    }
    return new Report(files, problems, points, unreachableOld, superseded, broken, overlapJoins);
  }

  /**
   * The other half of invariant 1, which one listing cannot show: every restore point an earlier check reached
   * must still be reachable while it is inside the retention of a level it was seen at (its timestamp plus that
   * level's retention, the longest of them). Returns one problem per point lost too early.
   *
   * @param seen the points earlier checks reached, levels merged ({@link #remember})
   */
  static List<String> lostInsideRetention(Map<Long, RestorePoint> seen, Report now, LevelConfig levels,
      long nowMillis) {
    List<String> problems = new ArrayList<>();
    for (RestorePoint p : seen.values()) {
      if (now.restorePoints().containsKey(p.txid())) continue;
      long keptFor = 0;
      int keptBy = -1;
      for (int level : p.levels()) {
        long r = levels.level(level).retention().toMillis();
        if (r > keptFor) {
          keptFor = r;
          keptBy = level;
        }
      }
      long until = p.timestamp() + keptFor;
      if (nowMillis < until - RETENTION_SLACK_MILLIS) {
        problems.add("restore point " + Txid.format(p.txid()) + " (" + Timestamps.format(p.timestamp()) + ", levels "
            + new java.util.TreeSet<>(p.levels()) + ") is gone " + (until - nowMillis) / 1000 + " s before level "
            + keptBy + "'s retention of " + levels.level(keptBy).retention() + " ends");
      }
    }
    return problems;
  }

  /** Retention runs at compaction boundaries, a little after a point expires, never before; this is clock noise. */
  private static final long RETENTION_SLACK_MILLIS = 1000;

  /** Adds the points {@code report} reached to {@code seen}, merging levels and keeping the newest timestamp. */
  static void remember(Map<Long, RestorePoint> seen, Report report) {
    for (RestorePoint p : report.restorePoints().values()) {
      seen.merge(p.txid(), p, RestorePoint::merge);
    }
  }

  private static Set<Integer> union(Set<Integer> a, Set<Integer> b) {
    Set<Integer> u = new HashSet<>(a);
    u.addAll(b);
    return Set.copyOf(u);
  }

  /** Names the file that ends just before {@code f}, to say how the chain breaks. */
  private static String nearest(List<FileView> files, FileView f) {
    FileView best = null;
    for (FileView g : files) {
      if (g.max() < f.min() && (best == null || g.max() > best.max())) best = g;
    }
    return best == null ? " (no earlier file)" : " (nearest earlier: " + best.name() + " ends at " + best.end() + ")";
  }
}
