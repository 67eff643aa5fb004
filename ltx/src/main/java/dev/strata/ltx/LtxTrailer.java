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

  /**
   * Checks the trailer's own rules for a file with this header: checksums present and flagged, or, in a file
   * flagged {@link LtxHeader#FLAG_NO_CHECKSUM}, no post-apply checksum at all.
   */
  public void validate(LtxHeader header) throws LtxException {
    if (header.hasNoChecksum()) {
      if (postApplyChecksum != 0) throw new LtxException("post-apply checksum not allowed");
    } else if (postApplyChecksum == 0) {
      throw new LtxException("post-apply checksum required");
    } else if (!Checksum.isValid(postApplyChecksum)) {
      throw new LtxException("invalid post-apply checksum format");
    }
    if (fileChecksum == 0) throw new LtxException("file checksum required");
    if (!Checksum.isValid(fileChecksum)) throw new LtxException("invalid file checksum format");
  }

  /** Reads a trailer from 16 bytes at {@code off}. */
  public static LtxTrailer decode(byte[] b, int off) {
    ByteBuffer buf = ByteBuffer.wrap(b, off, SIZE);
    return new LtxTrailer(buf.getLong(), buf.getLong());
  }
}
