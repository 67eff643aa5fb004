package dev.strata.ltx;

import static dev.strata.ltx.LtxSpec.header;
import static dev.strata.ltx.LtxSpec.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Ports of superfly/ltx v0.3.14 compactor tests (spec §1.9) and random chains checked against a model. */
class LtxCompactorTest {
  private static final LtxCompactor RAW = new LtxCompactor(0, false);

  private static List<InputStream> inputs(byte[]... files) {
    return Arrays.stream(files).map(f -> (InputStream) new ByteArrayInputStream(f)).toList();
  }

  private static LtxSpec compact(LtxCompactor c, byte[]... files) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxFileInfo info = c.compact(inputs(files), out);
    LtxSpec spec = LtxSpec.decode(out.toByteArray());
    assertThat(info.trailer()).isEqualTo(spec.trailer());
    assertThat(info.header()).isEqualTo(spec.header());
    assertThat(info.pageCount()).isEqualTo(spec.pages().size());
    return spec;
  }

  @Test
  void TestCompactor_Compact_SingleFilePageDataOnly() throws IOException {
    // Go's spec lists file checksum 0x897cc5d024cd382a for this input, but never checks it (its FileSpec writer
    // computes its own): this input is exactly golden vecA, whose checksum is bab9b3d8b4fa3b31.
    byte[] input = LtxSpec.encode(header(0, 512, 1, 1, 1, 1000, 0), 0xeb1a999231044dddL, page(1, '1', 512));
    assertThat(input).isEqualTo(Golden.bytes("vecA.ltx"));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxFileInfo info = RAW.compact(inputs(input), out);
    assertThat(out.toByteArray()).as("an exact copy").isEqualTo(input);
    assertThat(info.header()).isEqualTo(header(0, 512, 1, 1, 1, 1000, 0));
    assertThat(info.trailer()).isEqualTo(new LtxTrailer(0xeb1a999231044dddL, 0xbab9b3d8b4fa3b31L));
  }

  @Test
  void TestCompactor_Compact_SnapshotPageDataOnly() throws IOException {
    byte[] a = LtxSpec.encode(header(0, 1024, 3, 1, 1, 1000, 0), 0x8a249272ad9f7deaL,
        page(1, 0x81, 1024), page(2, 0x82, 1024), page(3, 0x83, 1024));
    byte[] b = LtxSpec.encode(header(0, 1024, 3, 2, 2, 2000, 0x8a249272ad9f7deaL), 0x8a249272ad9f7deaL,
        page(1, 0x91, 1024), page(3, 0x93, 1024));

    LtxSpec out = compact(RAW, a, b);
    assertThat(out.header()).isEqualTo(header(0, 1024, 3, 1, 2, 2000, 0));
    assertThat(out.pages()).containsExactly(page(1, 0x91, 1024), page(2, 0x82, 1024), page(3, 0x93, 1024));
    // Post-apply is the last input's. Here it also is the output's own checksum: both pages changed by the same
    // byte difference, which cancels in the XOR (CRC linearity), so the snapshot verifies.
    assertThat(out.trailer()).isEqualTo(new LtxTrailer(0x8a249272ad9f7deaL, 0xcaf341fe1e6cddfbL));
  }

  @Test
  void TestCompactor_Compact_NonSnapshotPageDataOnly() throws IOException {
    byte[] a = LtxSpec.encode(header(0, 1024, 3, 2, 3, 1000, Checksum.FLAG | 2), Checksum.FLAG | 3,
        page(3, 0x83, 1024));
    byte[] b = LtxSpec.encode(header(0, 1024, 3, 4, 5, 2000, Checksum.FLAG | 4), Checksum.FLAG | 5,
        page(1, 0x91, 1024));
    byte[] c = LtxSpec.encode(header(0, 1024, 5, 6, 9, 3000, Checksum.FLAG | 6), Checksum.FLAG | 9,
        page(2, 0xa2, 1024), page(3, 0xa3, 1024), page(5, 0xa5, 1024));

    LtxSpec out = compact(RAW, a, b, c);
    assertThat(out.header()).isEqualTo(header(0, 1024, 5, 2, 9, 3000, Checksum.FLAG | 2));
    assertThat(out.pages()).containsExactly(page(1, 0x91, 1024), page(2, 0xa2, 1024), page(3, 0xa3, 1024),
        page(5, 0xa5, 1024));
    assertThat(out.trailer()).isEqualTo(new LtxTrailer(Checksum.FLAG | 9, 0xead633959f3c67a8L));
  }

  @Test
  void TestCompactor_Compact_Shrinking() throws IOException {
    byte[] a = LtxSpec.encode(header(0, 1024, 3, 2, 3, 1000, Checksum.FLAG | 2), Checksum.FLAG | 3,
        page(3, 0x83, 1024));
    byte[] b = LtxSpec.encode(header(0, 1024, 2, 4, 5, 2000, Checksum.FLAG | 4), Checksum.FLAG | 5,
        page(1, 0x91, 1024));

    LtxSpec out = compact(RAW, a, b);
    assertThat(out.header()).isEqualTo(header(0, 1024, 2, 2, 5, 2000, Checksum.FLAG | 2));
    assertThat(out.pages()).as("page 3 is past the new commit").containsExactly(page(1, 0x91, 1024));
    assertThat(out.trailer()).isEqualTo(new LtxTrailer(Checksum.FLAG | 5, 0xf688132c3904f118L));
  }

  @Test
  void TestCompactor_Compact_ErrInputReaderRequired() {
    assertThatThrownBy(() -> RAW.compact(List.of(), new ByteArrayOutputStream())).isInstanceOf(LtxException.class)
        .hasMessage("at least one input reader required");
  }

  @Test
  void TestCompactor_Compact_ErrPageSizeMismatch() throws IOException {
    byte[] a = LtxSpec.snapshot(header(0, 512, 1, 1, 1, 1000, 0), page(1, 0x81, 512));
    byte[] b = LtxSpec.snapshot(header(0, 1024, 1, 1, 1, 1000, 0), page(1, 0x91, 1024));
    assertThatThrownBy(() -> compact(RAW, a, b)).isInstanceOf(LtxException.class)
        .hasMessage("input files have mismatched page sizes: 512 != 1024");
  }

  @Test
  void TestCompactor_Compact_ErrNonContiguousTXID() throws IOException {
    byte[] a = LtxSpec.snapshot(header(0, 1024, 1, 1, 2, 1000, 0), page(1, 0x81, 1024));
    byte[] b = LtxSpec.encode(header(0, 1024, 1, 4, 4, 1000, Checksum.FLAG | 2), Checksum.FLAG | 1,
        page(1, 0x91, 1024));
    assertThatThrownBy(() -> compact(RAW, a, b)).isInstanceOf(LtxException.class)
        .hasMessage("non-contiguous transaction ids in input files: (0000000000000001,0000000000000002) -> "
            + "(0000000000000004,0000000000000004)");
  }

  /**
   * As in Go, with one difference: Go's second input claims post-apply {@code FLAG|1}, which Go writes out
   * unchecked; Strata's encoder refuses a snapshot whose post-apply checksum is not its pages', so the second input
   * here carries the real one.
   */
  @Test
  void TestCompactor_Compact_AllowNonContiguousTXID() throws IOException {
    byte[] a = LtxSpec.encode(header(0, 1024, 1, 1, 2, 1000, 0), 0xeb953fc47685d740L, page(1, 0x81, 1024));
    long post = Checksum.ofPage(1, page(1, 0x91, 1024).data());
    byte[] b = LtxSpec.encode(header(0, 1024, 1, 4, 4, 1000, Checksum.FLAG | 2), post, page(1, 0x91, 1024));

    LtxSpec out = compact(new LtxCompactor(0, true), a, b);
    assertThat(out.header().minTxid()).isEqualTo(1);
    assertThat(out.header().maxTxid()).isEqualTo(4);
    assertThat(out.pages()).containsExactly(page(1, 0x91, 1024));
  }

  @Test
  void reproducesVecADFromVecAAndVecD() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxFileInfo info = LtxCompactor.lz4().compact(inputs(Golden.bytes("vecA.ltx"), Golden.bytes("vecD.ltx")), out);
    assertThat(Checksum.format(info.trailer().fileChecksum())).isEqualTo("8172dbf85c1b2e28");
    LtxSpec got = LtxSpec.decode(out.toByteArray());
    LtxSpec want = LtxSpec.decode(Golden.bytes("vecAD.ltx"));
    assertThat(got).isEqualTo(want);
    assertThat(got.header().nodeId()).as("vecD's node 7 is not carried over").isZero();
  }

  @Test
  void outputFlagsAreTheCompactorsNotTheInputs() throws IOException {
    LtxSpec lz4 = compact(LtxCompactor.lz4(), Golden.bytes("vecA.ltx"));
    assertThat(lz4.header().flags()).isEqualTo(LtxHeader.FLAG_COMPRESS_LZ4);
    LtxSpec raw = compact(RAW, Golden.bytes("vecB.ltx"));
    assertThat(raw.header().flags()).isZero();
    assertThat(Checksum.format(raw.trailer().fileChecksum())).isEqualTo("ce15b9c694d9e194");
  }

  @Test
  void walFieldsAndNodeIdAreNotCarriedOver() throws IOException {
    LtxHeader withWal = new LtxHeader(0, 512, 1, 1, 1, 5, 0, 32, 4120, 0x11223344, 0x55667788, 9);
    byte[] in = LtxSpec.snapshot(withWal, page(1, 'w', 512));
    assertThat(compact(RAW, in).header()).isEqualTo(header(0, 512, 1, 1, 1, 5, 0));
  }

  @Test
  void aCorruptInputFailsTheCompaction() throws IOException {
    byte[] d = Golden.bytes("vecD.ltx");
    d[d.length - 1] ^= 1; // file checksum
    assertThatThrownBy(() -> compact(LtxCompactor.lz4(), Golden.bytes("vecA.ltx"), d))
        .isInstanceOf(LtxException.class).hasMessageStartingWith("file checksum mismatch");
  }

  @Test
  void anUnreadableHeaderIsAnError() {
    assertThatThrownBy(() -> compact(RAW, Golden.bytes("vecA.ltx"), new byte[100]))
        .isInstanceOf(LtxException.class).hasMessage("decode header: unmarshal header: invalid LTX file");
  }

  @Test
  void inputsAreOrderedByTxid() throws IOException {
    assertThat(compact(LtxCompactor.lz4(), Golden.bytes("vecD.ltx"), Golden.bytes("vecA.ltx")))
        .isEqualTo(LtxSpec.decode(Golden.bytes("vecAD.ltx")));
  }

  /**
   * Random chains — a snapshot, then transactions that write, grow and shrink the database — compacted whole
   * must give a snapshot of the final state (whose checksum the encoder checks), and compacted from the second
   * file on, the latest copy of each page within the final commit.
   */
  @Test
  void randomChainsCompactToTheirFinalState() throws IOException {
    long seed = new Random().nextLong();
    System.out.println("LtxCompactorTest seed " + seed);
    Random r = new Random(seed);
    for (int round = 0; round < 40; round++) {
      int pageSize = 512 << r.nextInt(3);
      TreeMap<Integer, byte[]> db = new TreeMap<>();
      List<byte[]> files = new ArrayList<>();
      long checksum = Checksum.EMPTY_DATABASE;
      int commit = 0;
      int txCount = 1 + r.nextInt(8);
      long txid = 0;
      for (int tx = 0; tx < txCount; tx++) {
        boolean snapshot = tx == 0;
        long pre = snapshot ? 0 : checksum;
        int newCommit = snapshot ? r.nextInt(30) : Math.max(0, commit + r.nextInt(11) - 5);
        for (int pgno = commit; pgno > newCommit; pgno--) checksum = Checksum.roll(checksum, Checksum.ofPage(pgno, db.remove(pgno)), 0);
        List<LtxSpec.Page> pages = new ArrayList<>();
        for (int pgno = 1; pgno <= newCommit; pgno++) {
          if (!snapshot && pgno <= commit && r.nextInt(3) != 0) continue; // grown pages are always written
          byte[] data = new byte[pageSize];
          Arrays.fill(data, (byte) r.nextInt(256));
          data[r.nextInt(pageSize)] = (byte) r.nextInt(256);
          byte[] old = db.put(pgno, data);
          checksum = Checksum.roll(checksum, old == null ? 0 : Checksum.ofPage(pgno, old), Checksum.ofPage(pgno, data));
          pages.add(new LtxSpec.Page(pgno, data));
        }
        commit = newCommit;
        long min = txid + 1;
        txid += 1 + r.nextInt(3);
        LtxHeader h = header(r.nextBoolean() ? LtxHeader.FLAG_COMPRESS_LZ4 : 0, pageSize, commit, min, txid,
            1000L * tx, pre);
        files.add(LtxSpec.encode(h, checksum, pages.toArray(LtxSpec.Page[]::new)));
      }
      String context = "seed " + seed + ", round " + round;

      LtxSpec all = compact(LtxCompactor.lz4(), files.toArray(byte[][]::new));
      assertThat(all.header().isSnapshot()).as(context).isTrue();
      assertThat(all.header().commit()).as(context).isEqualTo(commit);
      assertThat(all.trailer().postApplyChecksum()).as(context).isEqualTo(checksum);
      List<LtxSpec.Page> state = db.entrySet().stream().map(e -> new LtxSpec.Page(e.getKey(), e.getValue())).toList();
      assertThat(all.pages()).as(context).isEqualTo(state);

      if (files.size() > 1) {
        LtxSpec tail = compact(RAW, files.subList(1, files.size()).toArray(byte[][]::new));
        assertThat(tail.header().isSnapshot()).as(context).isFalse();
        assertThat(tail.header().maxTxid()).as(context).isEqualTo(txid);
        assertThat(tail.trailer().postApplyChecksum()).as(context).isEqualTo(checksum);
        assertThat(state).as(context).containsAll(tail.pages());
      }
    }
  }
}
