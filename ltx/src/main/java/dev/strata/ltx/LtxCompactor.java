package dev.strata.ltx;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Merges contiguous LTX files into one (spec §1.9): a streaming k-way merge by page number in which the newest
 * input holding a page wins and pages past the last input's commit are dropped. Holds one page per input in
 * memory. Every input is fully verified before {@link #compact} returns; if it throws, the output is garbage
 * and must be discarded (write it to a temporary file).
 */
public final class LtxCompactor {
  private final int flags;
  private final boolean allowNonContiguousTxids;

  /**
   * @param flags header flags of the output (not inherited from the inputs), usually
   *     {@link LtxHeader#FLAG_COMPRESS_LZ4}
   * @param allowNonContiguousTxids accept inputs whose TXID ranges leave gaps
   */
  public LtxCompactor(int flags, boolean allowNonContiguousTxids) {
    this.flags = flags;
    this.allowNonContiguousTxids = allowNonContiguousTxids;
  }

  /** A compactor writing LZ4-compressed output from contiguous inputs, as LiteFS and litefs-backup do. */
  public static LtxCompactor lz4() {
    return new LtxCompactor(LtxHeader.FLAG_COMPRESS_LZ4, false);
  }

  /** Merges {@code inputs} (ordered by TXID) into {@code out}; returns what was written. Closes the inputs. */
  public LtxFileInfo compact(List<? extends InputStream> inputs, OutputStream out) throws IOException {
    if (inputs.isEmpty()) throw new LtxException("at least one input reader required");
    List<Input> in = new ArrayList<>(inputs.size());
    try {
      for (int i = 0; i < inputs.size(); i++) in.add(new Input(i, new LtxDecoder(inputs.get(i))));
      return merge(in, out);
    } finally {
      for (InputStream s : inputs) s.close();
    }
  }

  private LtxFileInfo merge(List<Input> in, OutputStream out) throws IOException {
    in.sort(Comparator.comparingLong((Input i) -> i.header().minTxid())
        .thenComparingInt(i -> i.index)); // inputs are expected in order already; make it certain
    LtxHeader first = in.getFirst().header(), last = in.getLast().header();
    for (int i = 1; i < in.size(); i++) {
      LtxHeader prev = in.get(i - 1).header(), next = in.get(i).header();
      if (prev.pageSize() != next.pageSize()) {
        throw new LtxException("input files have mismatched page sizes: " + prev.pageSize() + " != "
            + next.pageSize());
      }
      if (!allowNonContiguousTxids && prev.maxTxid() + 1 != next.minTxid()) {
        throw new LtxException("non-contiguous transaction ids in input files: (" + Txid.format(prev.minTxid())
            + "," + Txid.format(prev.maxTxid()) + ") -> (" + Txid.format(next.minTxid()) + ","
            + Txid.format(next.maxTxid()) + ")");
      }
    }
    LtxHeader header = LtxHeader.of(flags, first.pageSize(), last.commit(), first.minTxid(), last.maxTxid(),
        last.timestamp(), first.preApplyChecksum());
    LtxEncoder enc = new LtxEncoder(out, header);
    long commit = Integer.toUnsignedLong(header.commit());
    for (Input i : in) i.advance();
    while (true) {
      Input winner = null;
      for (Input i : in) { // newest input with the lowest page number wins
        if (i.pgno != 0 && (winner == null || Integer.compareUnsigned(i.pgno, winner.pgno) <= 0)) winner = i;
      }
      if (winner == null) break;
      int pgno = winner.pgno;
      if (Integer.toUnsignedLong(pgno) <= commit) enc.encodePage(pgno, winner.page, 0, winner.decoder.pageCrc());
      for (Input i : in) {
        if (i.pgno == pgno) i.advance();
      }
    }
    LtxTrailer lastTrailer = null;
    for (Input i : in) lastTrailer = i.decoder.finish();
    LtxTrailer trailer = enc.finish(lastTrailer.postApplyChecksum());
    return new LtxFileInfo(header, trailer, enc.pageCount());
  }

  /** One input and the page it currently offers. */
  private static final class Input {
    final int index;
    final LtxDecoder decoder;
    final byte[] page;
    int pgno;

    Input(int index, LtxDecoder decoder) {
      this.index = index;
      this.decoder = decoder;
      this.page = new byte[decoder.header().pageSize()];
    }

    LtxHeader header() {
      return decoder.header();
    }

    void advance() throws IOException {
      pgno = decoder.readPage(page);
    }
  }
}
