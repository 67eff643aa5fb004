package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The golden files written by superfly/ltx v0.3.14 decode, verify and re-encode to the same checksums. */
class GoldenFilesTest {
  record Page(int pgno, byte[] data) {}

  record Decoded(LtxHeader header, List<Page> pages, LtxTrailer trailer) {}

  static Decoded decode(byte[] file) throws IOException {
    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(file))) {
      List<Page> pages = new ArrayList<>();
      byte[] buf = new byte[d.header().pageSize()];
      for (int pgno; (pgno = d.readPage(buf)) != 0; ) pages.add(new Page(pgno, buf.clone()));
      return new Decoded(d.header(), pages, d.finish());
    }
  }

  static byte[] encode(LtxHeader h, List<Page> pages, long post) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder e = new LtxEncoder(out, h);
    for (Page p : pages) e.encodePage(p.pgno(), p.data());
    e.finish(post);
    return out.toByteArray();
  }

  @ParameterizedTest
  @CsvSource({
    "vecA.ltx, 0, 512, 1, 1, 1, 1000, 0000000000000000, 0, eb1a999231044ddd, bab9b3d8b4fa3b31, 1",
    "vecB.ltx, 1, 512, 2, 1, 6, 0, 0000000000000000, 0, ad2dffe333333333, bb0e2065ff682755, 2",
    "vecC.ltx, 1, 512, 0, 1, 6, 0, 0000000000000000, 0, 8000000000000000, 8553be86dc216640, 0",
    "vecD.ltx, 0, 512, 2, 2, 2, 2000, eb1a999231044ddd, 7, ad2dffe333333333, 965563c09b78aba7, 1",
    "vecAD.ltx, 1, 512, 2, 1, 2, 2000, 0000000000000000, 0, ad2dffe333333333, 8172dbf85c1b2e28, 2",
    "litefs-testdata-000000000000000d-000000000000000d.ltx, 0, 4096, 10, 13, 13, -1, -, 0, -, 9496a29358326fb5, 3",
  })
  void decodesToDocumentedFieldsAndReencodes(String name, int flags, int pageSize, int commit, long min, long max,
      long ts, String pre, long nodeId, String post, String fileChecksum, int pageCount) throws IOException {
    byte[] file = Golden.bytes(name);
    Decoded d = decode(file);
    LtxHeader h = d.header();
    assertThat(h.flags()).isEqualTo(flags);
    assertThat(h.pageSize()).isEqualTo(pageSize);
    assertThat(h.commit()).isEqualTo(commit);
    assertThat(h.minTxid()).isEqualTo(min);
    assertThat(h.maxTxid()).isEqualTo(max);
    if (ts >= 0) assertThat(h.timestamp()).isEqualTo(ts);
    if (!pre.equals("-")) assertThat(h.preApplyChecksum()).isEqualTo(Checksum.parse(pre));
    assertThat(h.nodeId()).isEqualTo(nodeId);
    if (!post.equals("-")) assertThat(d.trailer().postApplyChecksum()).isEqualTo(Checksum.parse(post));
    assertThat(Checksum.format(d.trailer().fileChecksum())).isEqualTo(fileChecksum);
    assertThat(d.pages()).hasSize(pageCount);

    byte[] again = encode(h, d.pages(), d.trailer().postApplyChecksum());
    assertThat(decode(again).trailer()).isEqualTo(d.trailer());
    if (flags == 0) assertThat(again).isEqualTo(file); // uncompressed files are byte-identical
  }

  @Test
  void litefsTestdataHoldsPages1And7And8() throws IOException {
    Decoded d = decode(Golden.bytes("litefs-testdata-000000000000000d-000000000000000d.ltx"));
    assertThat(d.pages()).extracting(Page::pgno).containsExactly(1, 7, 8);
  }

  @Test
  void vecBWithoutCompressionHasItsDocumentedChecksum() throws IOException {
    Decoded d = decode(Golden.bytes("vecB.ltx"));
    byte[] raw = encode(d.header().withFlags(0), d.pages(), d.trailer().postApplyChecksum());
    assertThat(Checksum.format(decode(raw).trailer().fileChecksum())).isEqualTo("ce15b9c694d9e194");
  }
}
