package dev.strata.agent.capture;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import java.nio.file.Path;

/**
 * An LTX file in the local store, waiting until every replica has it.
 *
 * @param level 0 for a sync pass, 9 for a snapshot
 * @param info the file's header, trailer and page count
 */
public record LocalFile(int level, LtxFileInfo info, Path path, long size) {
  /** The TXIDs the file covers. */
  public TxidRange range() {
    return new TxidRange(info.header().minTxid(), info.header().maxTxid());
  }

  /** MinTXID. */
  public long minTxid() {
    return info.header().minTxid();
  }

  /** MaxTXID. */
  public long maxTxid() {
    return info.header().maxTxid();
  }

  /** The database checksum before the file (0 for a snapshot). */
  public long preApplyChecksum() {
    return info.header().preApplyChecksum();
  }

  /** The database checksum after the file. */
  public long postApplyChecksum() {
    return info.trailer().postApplyChecksum();
  }

  @Override
  public String toString() {
    return "L" + level + "/" + range();
  }
}
