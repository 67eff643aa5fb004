package dev.strata.replica.restore;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * The files of one replica, level by level, as listed at one moment: what restore plans, restore points and
 * retention are computed from. Immutable.
 */
public final class ReplicaFiles {
  private final List<List<LtxFileMeta>> levels; // index = level number 0..9, each sorted by range
  private final long[][] mins; // per level, the MinTXIDs for binary search
  private final List<LtxFileMeta> bases; // files with MinTXID 1 by MaxTXID; at equal MaxTXID the higher level last

  private ReplicaFiles(List<List<LtxFileMeta>> levels) {
    this.levels = levels;
    this.bases = levels.stream().flatMap(List::stream).filter(f -> f.minTxid() == 1)
        .sorted(Comparator.comparingLong(LtxFileMeta::maxTxid).thenComparingInt(LtxFileMeta::level)).toList();
    this.mins = new long[levels.size()][];
    for (int l = 0; l < levels.size(); l++) {
      List<LtxFileMeta> files = levels.get(l);
      mins[l] = new long[files.size()];
      for (int i = 0; i < files.size(); i++) mins[l][i] = files.get(i).minTxid();
    }
  }

  /** Lists every level of a replica (one listing per level). */
  public static ReplicaFiles list(ReplicaClient client) throws IOException {
    List<LtxFileMeta> all = new ArrayList<>();
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) all.addAll(client.listFiles(level));
    return of(all);
  }

  /** A catalogue of the given files (any order, any levels). */
  public static ReplicaFiles of(Collection<LtxFileMeta> files) {
    List<List<LtxFileMeta>> levels = new ArrayList<>();
    for (int l = 0; l <= ReplicaClient.MAX_LEVEL; l++) levels.add(new ArrayList<>());
    for (LtxFileMeta f : files) levels.get(f.level()).add(f);
    for (List<LtxFileMeta> l : levels) l.sort(Comparator.comparing(LtxFileMeta::range));
    return new ReplicaFiles(levels.stream().map(List::copyOf).toList());
  }

  /** The files of one level in TXID order. */
  public List<LtxFileMeta> level(int level) {
    return levels.get(ReplicaClient.checkLevel(level));
  }

  /** Every file, level by level. */
  public List<LtxFileMeta> all() {
    List<LtxFileMeta> all = new ArrayList<>();
    levels.forEach(all::addAll);
    return all;
  }

  /** True when the replica holds no file at all. */
  public boolean isEmpty() {
    return levels.stream().allMatch(List::isEmpty);
  }

  /** The highest MaxTXID of any file; 0 for an empty replica. */
  public long maxTxid() {
    long max = 0;
    for (List<LtxFileMeta> l : levels) {
      if (!l.isEmpty()) max = Math.max(max, l.getLast().maxTxid());
    }
    return max;
  }

  /** Total bytes stored. */
  public long totalBytes() {
    return levels.stream().flatMap(List::stream).mapToLong(LtxFileMeta::size).sum();
  }

  /** Every file boundary (MaxTXID) in ascending order: the candidates for restore points. */
  public TreeSet<Long> boundaries() {
    TreeSet<Long> points = new TreeSet<>();
    for (List<LtxFileMeta> l : levels) {
      for (LtxFileMeta f : l) points.add(f.maxTxid());
    }
    return points;
  }

  /** The files (any level) whose MaxTXID is {@code txid}. */
  public List<LtxFileMeta> endingAt(long txid) {
    List<LtxFileMeta> out = new ArrayList<>();
    for (List<LtxFileMeta> l : levels) {
      for (LtxFileMeta f : l) {
        if (f.maxTxid() == txid) out.add(f);
      }
    }
    return out;
  }

  /** The file of {@code level} whose range holds {@code txid}, or null. */
  LtxFileMeta containing(int level, long txid) {
    long[] m = mins[level];
    int lo = 0, hi = m.length - 1, found = -1;
    while (lo <= hi) { // last file with MinTXID <= txid
      int mid = (lo + hi) >>> 1;
      if (m[mid] <= txid) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return null;
    LtxFileMeta f = levels.get(level).get(found);
    return f.maxTxid() >= txid ? f : null;
  }

  /** The smallest MinTXID above {@code txid} in any level below the snapshot level, or 0 when none. */
  long nextMinAfter(long txid) {
    long next = 0;
    for (int level = 0; level < ReplicaClient.MAX_LEVEL; level++) {
      for (LtxFileMeta f : levels.get(level)) {
        if (f.minTxid() > txid) {
          if (next == 0 || f.minTxid() < next) next = f.minTxid();
          break;
        }
      }
    }
    return next;
  }

  /**
   * The newest full-database file (MinTXID 1, usually a level-9 snapshot) ending at or before {@code txid}, from
   * which a restore to {@code txid} starts; null when there is none. Snapshots win ties.
   */
  public LtxFileMeta baseAtOrBefore(long txid) {
    int lo = 0, hi = bases.size() - 1, found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (bases.get(mid).maxTxid() <= txid) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? null : bases.get(found);
  }

  /** The path of a file inside the replica, for messages: {@code <level>/<min>-<max>.ltx}. */
  static String name(LtxFileMeta f) {
    return f.level() + "/" + f.fileName();
  }

  /** A range as {@code <min>-<max>} for messages. */
  static String range(TxidRange r) {
    return r.toString();
  }
}
