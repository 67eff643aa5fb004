package dev.strata.ltx;

/** An inclusive range of TXIDs, as covered by one LTX file. */
public record TxidRange(long min, long max) implements Comparable<TxidRange> {
  /** {@code <min>-<max>} in hex16. */
  @Override
  public String toString() {
    return Txid.format(min) + "-" + Txid.format(max);
  }

  /** The file name of this range. */
  public String fileName() {
    return LtxFileName.format(min, max);
  }

  /** Orders by MinTXID, then MaxTXID (unsigned). */
  @Override
  public int compareTo(TxidRange o) {
    int c = Long.compareUnsigned(min, o.min);
    return c != 0 ? c : Long.compareUnsigned(max, o.max);
  }
}
