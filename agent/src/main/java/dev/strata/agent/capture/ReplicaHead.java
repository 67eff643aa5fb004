package dev.strata.agent.capture;

/**
 * The newest position found on the replicas: the highest MaxTXID of any file and the database checksum after it
 * (0 when the listing did not carry it).
 */
public record ReplicaHead(long txid, long postApplyChecksum) {
  /** No replica holds any file. */
  public static final ReplicaHead EMPTY = new ReplicaHead(0, 0);

  /** The later of two heads. */
  public ReplicaHead max(ReplicaHead o) {
    return Long.compareUnsigned(o.txid, txid) > 0 ? o : this;
  }
}
