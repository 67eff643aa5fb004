package dev.strata.agent.capture;

import dev.strata.replica.wal.WalHeader;

/**
 * How far capture has read the WAL: the generation (checkpoint sequence and salts of its header) and the last
 * commit frame captured, with the cumulative checksum SQLite stored in that frame.
 *
 * @param frame the last captured commit frame, 1-based; 0 when nothing of this generation was captured yet
 * @param checksum the cumulative checksum at {@code frame} (the header's when {@code frame} is 0)
 */
public record WalPosition(int checkpointSeq, int salt1, int salt2, long frame, long checksum) {

  /** The start of the generation {@code h} begins. */
  public static WalPosition start(WalHeader h) {
    return new WalPosition(h.checkpointSeq(), h.salt1(), h.salt2(), 0, h.checksum());
  }

  /** True when {@code h} heads the generation this position is in. */
  public boolean sameGeneration(WalHeader h) {
    return h.checkpointSeq() == checkpointSeq && h.salt1() == salt1 && h.salt2() == salt2;
  }

  /** True when {@code other} is in the same generation as this position. */
  public boolean sameGeneration(WalPosition other) {
    return other.checkpointSeq == checkpointSeq && other.salt1 == salt1 && other.salt2 == salt2;
  }

  /** This generation, captured up to commit frame {@code n}. */
  public WalPosition at(long n, long checksumAtN) {
    return new WalPosition(checkpointSeq, salt1, salt2, n, checksumAtN);
  }

  @Override
  public String toString() {
    return String.format("wal generation %d (salts %08x %08x) frame %d", Integer.toUnsignedLong(checkpointSeq),
        salt1, salt2, frame);
  }
}
