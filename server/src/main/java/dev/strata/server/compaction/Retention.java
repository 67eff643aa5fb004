package dev.strata.server.compaction;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Deleting storage files that a higher level covers and that are older than their level's retention. */
public final class Retention {
  private Retention() {}

  /**
   * litefs-backup's rule (spec §4.8): of the files of {@code level} starting before {@code bound}, in TXID order,
   * deletes those created before {@code now − retention}, stopping at the first younger one so that no gap opens.
   * Returns what was deleted.
   */
  public static List<TxidRange> enforce(ReplicaClient r, int level, long bound, Duration retention, Instant now)
      throws IOException {
    Instant cutoff = now.minus(retention);
    List<TxidRange> doomed = new ArrayList<>();
    for (LtxFileMeta f : r.listFiles(level)) {
      if (Long.compareUnsigned(f.minTxid(), bound) >= 0) break;
      if (!retention.isZero() && f.createdAt().isAfter(cutoff)) break;
      doomed.add(f.range());
    }
    r.deleteFiles(level, doomed);
    return doomed;
  }

  /** Snapshot retention: deletes snapshots created before {@code now − retention}, always keeping the newest. */
  public static List<TxidRange> enforceSnapshots(ReplicaClient r, int level, Duration retention, Instant now)
      throws IOException {
    List<LtxFileMeta> files = r.listFiles(level);
    Instant cutoff = now.minus(retention);
    List<TxidRange> doomed = new ArrayList<>();
    for (int i = 0; i < files.size() - 1; i++) {
      if (files.get(i).createdAt().isBefore(cutoff)) doomed.add(files.get(i).range());
    }
    r.deleteFiles(level, doomed);
    return doomed;
  }
}
