package dev.strata.replica.wal;

import java.nio.ByteBuffer;

/**
 * The 24-byte header before each page in a WAL file (fileformat2.html §4.2).
 *
 * @param pgno the page this frame holds
 * @param commitSize for the last frame of a transaction (a commit frame), the database size in pages after the
 *     commit; 0 otherwise
 * @param checksum1 first half of the cumulative checksum up to and including this frame
 */
public record WalFrameHeader(int pgno, int commitSize, int salt1, int salt2, int checksum1, int checksum2) {
  /** Size of a frame header. */
  public static final int SIZE = 24;

  /** True for the last frame of a transaction. */
  public boolean isCommit() {
    return commitSize != 0;
  }

  /** The cumulative checksum this frame declares. */
  public long checksum() {
    return WalChecksum.of(checksum1, checksum2);
  }

  /** Decodes the 24 bytes at {@code off}; does not verify them. */
  public static WalFrameHeader decode(byte[] b, int off) {
    ByteBuffer buf = ByteBuffer.wrap(b, off, SIZE);
    return new WalFrameHeader(buf.getInt(), buf.getInt(), buf.getInt(), buf.getInt(), buf.getInt(), buf.getInt());
  }
}
