package dev.strata.replica;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import java.time.Instant;

/**
 * A file in a replica as a listing reports it. Header fields are 0 when the backend's listing does not carry
 * them ({@link #hasHeader()}); {@code postApplyChecksum} is 0 when unknown.
 *
 * @param createdAt when the file was stored (modification time / LastModified)
 * @param timestamp the LTX header timestamp, milliseconds since the epoch
 */
public record LtxFileMeta(
    int level,
    TxidRange range,
    long size,
    Instant createdAt,
    int pageSize,
    int commit,
    long timestamp,
    long preApplyChecksum,
    long postApplyChecksum) {

  /** Metadata of a file that carries only its name, size and time. */
  public static LtxFileMeta bare(int level, TxidRange range, long size, Instant createdAt) {
    return new LtxFileMeta(level, range, size, createdAt, 0, 0, 0, 0, 0);
  }

  /** Metadata from a verified file's header and trailer. */
  public static LtxFileMeta of(int level, LtxFileInfo info, long size, Instant createdAt) {
    var h = info.header();
    return new LtxFileMeta(level, new TxidRange(h.minTxid(), h.maxTxid()), size, createdAt, h.pageSize(),
        h.commit(), h.timestamp(), h.preApplyChecksum(), info.trailer().postApplyChecksum());
  }

  /**
   * Metadata of a stored file from the header and trailer read back from it. A file whose header names other
   * TXIDs than its file name (a file copied over another) is listed by name only, so that a restore reading it
   * fails on the mismatch instead of trusting either.
   */
  public static LtxFileMeta stored(int level, TxidRange named, LtxHeader header, LtxTrailer trailer, long size,
      Instant createdAt) {
    if (header.minTxid() != named.min() || header.maxTxid() != named.max()) {
      return bare(level, named, size, createdAt);
    }
    return of(level, new LtxFileInfo(header, trailer, -1), size, createdAt);
  }

  /** True when the header fields (page size, commit, timestamp, pre-apply checksum) are known. */
  public boolean hasHeader() {
    return pageSize != 0;
  }

  /** True when the header fields and the post-apply checksum are both known: nothing more to read for them. */
  public boolean described() {
    return hasHeader() && postApplyChecksum != 0;
  }

  /** MinTXID. */
  public long minTxid() {
    return range.min();
  }

  /** MaxTXID. */
  public long maxTxid() {
    return range.max();
  }

  /** The file's path inside its replica, {@code <level>/<min>-<max>.ltx}, for messages. */
  public String path() {
    return level + "/" + fileName();
  }

  /** The file name, {@code <min>-<max>.ltx}. */
  public String fileName() {
    return range.fileName();
  }
}
