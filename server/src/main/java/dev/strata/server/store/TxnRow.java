package dev.strata.server.store;

import dev.strata.ltx.Pos;

/**
 * One accepted upload, restore or import: a TXID range applied as a unit. Restore points inside level 0 are these
 * rows' MaxTXIDs.
 *
 * @param timestamp the LTX header timestamp (the LiteFS node's clock), milliseconds
 * @param receivedAt when this server accepted it (its own clock), milliseconds; level-0 retention uses this
 */
public record TxnRow(long minTxid, long maxTxid, int pageSize, int commit, long timestamp, long receivedAt,
    long preApplyChecksum, long postApplyChecksum) {

  /** The position after this transaction. */
  public Pos pos() {
    return new Pos(maxTxid, postApplyChecksum);
  }
}
