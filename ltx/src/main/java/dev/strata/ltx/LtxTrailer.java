package dev.strata.ltx;

import java.nio.ByteBuffer;

/** The 16 bytes that end every LTX file: the database checksum after applying it, and the file checksum. */
public record LtxTrailer(long postApplyChecksum, long fileChecksum) {
  /** Size of an encoded trailer. */
  public static final int SIZE = 16;

  /** The 16 bytes as stored. */
  public byte[] encode() {
    return ByteBuffer.allocate(SIZE).putLong(postApplyChecksum).putLong(fileChecksum).array();
  }

  /** Reads a trailer from 16 bytes at {@code off}. */
  public static LtxTrailer decode(byte[] b, int off) {
    ByteBuffer buf = ByteBuffer.wrap(b, off, SIZE);
    return new LtxTrailer(buf.getLong(), buf.getLong());
  }
}
