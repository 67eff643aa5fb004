package dev.strata.replica.restore;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import java.util.List;

/**
 * Which replica files rebuild a database at one TXID: a full-database file (MinTXID 1) followed by files that each
 * start at or before the TXID after the previous one's end. Applied in order, newest page wins.
 *
 * @param files the files to apply, oldest first
 * @param totalBytes the sum of their sizes
 * @param range the TXIDs the plan covers, always starting at 1
 * @param targetTxid the TXID the database will be at
 * @param expectedChecksum the database checksum at {@code targetTxid} as the listing reports it (the last file's
 *     post-apply checksum); 0 when the listing does not carry it, in which case the last file's trailer is used
 */
public record RestorePlan(
    List<LtxFileMeta> files, long totalBytes, TxidRange range, long targetTxid, long expectedChecksum) {
  public RestorePlan {
    files = List.copyOf(files);
    if (files.isEmpty()) throw new IllegalArgumentException("a restore plan needs at least one file");
  }

  /** A plan applying {@code files} in order. */
  static RestorePlan of(List<LtxFileMeta> files) {
    LtxFileMeta last = files.getLast();
    long bytes = files.stream().mapToLong(LtxFileMeta::size).sum();
    return new RestorePlan(files, bytes, new TxidRange(1, last.maxTxid()), last.maxTxid(), last.postApplyChecksum());
  }

  /** The LTX header timestamp of the target (milliseconds since the epoch), or 0 when the listing lacks it. */
  public long timestamp() {
    return files.getLast().timestamp();
  }
}
