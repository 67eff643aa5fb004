package dev.strata.replica.testing;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Random;

/**
 * A valid LTX v1 file built in memory for tests: {@code pages} random 4 KiB pages, a snapshot when {@code min} is 1.
 * Use {@link #info()} and {@link #stream()} as the arguments of {@code ReplicaClient.writeFile}.
 */
public record TestLtx(LtxFileInfo info, byte[] bytes) {
  /** Page size of the files built here. */
  public static final int PAGE_SIZE = 4096;

  /** Builds a file for TXIDs {@code min..max} holding pages 1..{@code pages}, contents from {@code seed}. */
  public static TestLtx of(long min, long max, int pages, long seed) {
    Random random = new Random(seed);
    long timestamp = 1_700_000_000_000L + min * 1000 + random.nextInt(1000);
    long pre = min == 1 ? 0 : Checksum.FLAG | random.nextLong();
    LtxHeader header = LtxHeader.of(0, PAGE_SIZE, pages, min, max, timestamp, pre);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      LtxEncoder enc = new LtxEncoder(out, header);
      byte[] page = new byte[PAGE_SIZE];
      for (int pgno = 1; pgno <= pages; pgno++) {
        random.nextBytes(page);
        enc.encodePage(pgno, page);
      }
      long post = min == 1 ? enc.pagesChecksum() : Checksum.FLAG | random.nextLong();
      LtxTrailer trailer = enc.finish(post);
      return new TestLtx(new LtxFileInfo(header, trailer, pages), out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The metadata of a file that is not a real LTX file (benchmarks, large streams): only the header fields. */
  public static LtxFileInfo fakeInfo(long min, long max) {
    LtxHeader header = LtxHeader.of(0, PAGE_SIZE, 1, min, max, 1_700_000_000_000L, min == 1 ? 0 : Checksum.FLAG | 7);
    return new LtxFileInfo(header, new LtxTrailer(Checksum.FLAG | 9, Checksum.FLAG | 11), 1);
  }

  /** The TXID range. */
  public TxidRange range() {
    return new TxidRange(info.header().minTxid(), info.header().maxTxid());
  }

  /** The file's bytes as a fresh stream. */
  public InputStream stream() {
    return new ByteArrayInputStream(bytes);
  }

  /** The file's size in bytes. */
  public long size() {
    return bytes.length;
  }
}
