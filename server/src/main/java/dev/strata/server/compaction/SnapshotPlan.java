package dev.strata.server.compaction;

import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.server.ApiException;
import dev.strata.server.Levels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The storage files that rebuild a database at a TXID (litefs-backup's {@code CalcSnapshotPlan}, spec §4.6): the
 * newest snapshot at or before it, then from the highest level down every file that continues the chain without
 * passing the TXID. The plan may end before the TXID; {@link #endsAt} tells whether the TXID is a restore point.
 */
public record SnapshotPlan(List<LtxFileMeta> files) {
  public SnapshotPlan {
    files = List.copyOf(files);
  }

  /**
   * Plans from listings by level (each in TXID order). Throws {@code ENOTXID} when nothing applies and
   * {@link IllegalStateException} when a level leaves a gap.
   */
  public static SnapshotPlan calc(Map<Integer, List<LtxFileMeta>> levels, long txid) {
    List<LtxFileMeta> plan = new ArrayList<>();
    long max = 0;
    for (LtxFileMeta f : levels.getOrDefault(Levels.SNAPSHOT, List.of())) {
      if (Long.compareUnsigned(f.maxTxid(), txid) <= 0) {
        if (plan.isEmpty()) plan.add(f);
        else plan.set(0, f);
        max = f.maxTxid();
      }
    }
    for (int level = Levels.MAX; level >= 0; level--) {
      for (LtxFileMeta f : levels.getOrDefault(level, List.of())) {
        if (Long.compareUnsigned(f.minTxid(), max) <= 0 || Long.compareUnsigned(f.maxTxid(), txid) > 0) continue;
        if (f.minTxid() != max + 1) {
          throw new IllegalStateException("non-contiguous transaction files: " + Txid.format(max) + " -> "
              + f.range());
        }
        plan.add(f);
        max = f.maxTxid();
      }
    }
    if (plan.isEmpty()) throw ApiException.noTxid(null);
    return new SnapshotPlan(plan);
  }

  /** The TXID the plan rebuilds. */
  public long maxTxid() {
    return files.getLast().maxTxid();
  }

  /** True when the plan rebuilds exactly {@code txid}. */
  public boolean endsAt(long txid) {
    return maxTxid() == txid;
  }

  /** The last file: its metadata timestamp is the state's time. */
  public LtxFileMeta last() {
    return files.getLast();
  }
}
