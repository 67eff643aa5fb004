package dev.strata.server.store;

import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes a state as an LTX v1 snapshot (MinTXID 1, LZ4, as litefs-backup serves on {@code /db/snapshot}). The
 * trailer is written only in {@link #end}, so a failure part-way leaves a file no reader accepts.
 */
public final class LtxSnapshotSink implements PageSink {
  private final OutputStream out;
  private final int flags;
  private LtxEncoder enc;
  private TxnRow txn;
  private LtxFileInfo written;

  public LtxSnapshotSink(OutputStream out) {
    this(out, LtxHeader.FLAG_COMPRESS_LZ4);
  }

  public LtxSnapshotSink(OutputStream out, int flags) {
    this.out = out;
    this.flags = flags;
  }

  @Override
  public void begin(TxnRow t) throws IOException {
    txn = t;
    enc = new LtxEncoder(out, LtxHeader.of(flags, t.pageSize(), t.commit(), 1, t.maxTxid(), t.timestamp(), 0));
  }

  @Override
  public void page(int pgno, byte[] data) throws IOException {
    enc.encodePage(pgno, data);
  }

  @Override
  public void end() throws IOException {
    LtxTrailer trailer = enc.finish(txn.postApplyChecksum());
    written = new LtxFileInfo(enc.header(), trailer, enc.pageCount());
  }

  /** What was written, after {@link #end}. */
  public LtxFileInfo written() {
    return written;
  }
}
