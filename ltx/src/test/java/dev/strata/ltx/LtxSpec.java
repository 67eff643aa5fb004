package dev.strata.ltx;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A whole LTX file as values, like superfly/ltx's {@code FileSpec}: written with {@link LtxEncoder}, read back with
 * {@link LtxDecoder}.
 */
record LtxSpec(LtxHeader header, List<Page> pages, LtxTrailer trailer) {
  /** One page frame. */
  record Page(int pgno, byte[] data) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Page p && p.pgno == pgno && Arrays.equals(p.data, data);
    }

    @Override
    public int hashCode() {
      return 31 * pgno + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "Page[" + Integer.toUnsignedString(pgno) + ", " + data.length + " bytes, first " + (data[0] & 0xFF) + "]";
    }
  }

  /** A page of {@code size} copies of {@code fill}. */
  static Page page(int pgno, int fill, int size) {
    byte[] b = new byte[size];
    Arrays.fill(b, (byte) fill);
    return new Page(pgno, b);
  }

  /** A v1 header with the common fields (WAL fields and node ID zero). */
  static LtxHeader header(int flags, int pageSize, int commit, long min, long max, long timestamp, long pre) {
    return LtxHeader.of(flags, pageSize, commit, min, max, timestamp, pre);
  }

  /** Encodes the pages with a post-apply checksum. */
  static byte[] encode(LtxHeader header, long postApplyChecksum, Page... pages) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder e = new LtxEncoder(out, header);
    for (Page p : pages) e.encodePage(p.pgno(), p.data());
    e.finish(postApplyChecksum);
    return out.toByteArray();
  }

  /** Encodes a snapshot, its post-apply checksum computed from its pages. */
  static byte[] snapshot(LtxHeader header, Page... pages) throws IOException {
    long post = Checksum.EMPTY_DATABASE;
    for (Page p : pages) post = Checksum.roll(post, 0, Checksum.ofPage(p.pgno(), p.data()));
    return encode(header, post, pages);
  }

  /**
   * Writes an uncompressed v1 file by hand, with a correct file checksum but none of the encoder's rules: for
   * files LtxEncoder refuses to write.
   */
  static byte[] raw(LtxHeader header, long postApplyChecksum, Page... pages) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(header.encode());
    for (Page p : pages) {
      b.write(new byte[] {(byte) (p.pgno() >>> 24), (byte) (p.pgno() >>> 16), (byte) (p.pgno() >>> 8), (byte) p.pgno()});
      b.write(p.data());
    }
    b.write(new byte[4]);
    b.write(new LtxTrailer(postApplyChecksum, 0).encode(), 0, 8);
    long fileChecksum = Checksum.FLAG | Crc64.of(b.toByteArray());
    b.write(new LtxTrailer(postApplyChecksum, fileChecksum).encode(), 8, 8);
    return b.toByteArray();
  }

  /** Decodes and verifies a whole v1 file. */
  static LtxSpec decode(byte[] file) throws IOException {
    return decode(file, LtxFormat.V1);
  }

  /** Decodes and verifies a whole file of the given format. */
  static LtxSpec decode(byte[] file, LtxFormat format) throws IOException {
    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(file), format)) {
      List<Page> pages = new ArrayList<>();
      byte[] buf = new byte[d.header().pageSize()];
      for (int pgno; (pgno = d.readPage(buf)) != 0; ) pages.add(new Page(pgno, buf.clone()));
      return new LtxSpec(d.header(), pages, d.finish());
    }
  }

  /** The page numbers, in file order. */
  List<Integer> pgnos() {
    return pages.stream().map(Page::pgno).toList();
  }
}
