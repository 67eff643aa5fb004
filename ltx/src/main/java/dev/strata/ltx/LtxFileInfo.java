package dev.strata.ltx;

/** What a verified LTX file declares: its header, trailer and number of pages. */
public record LtxFileInfo(LtxHeader header, LtxTrailer trailer, long pageCount) {
  /** The position of a database after applying this file: (MaxTXID, PostApplyChecksum). */
  public Pos postApplyPos() {
    return new Pos(header.maxTxid(), trailer.postApplyChecksum());
  }
}
