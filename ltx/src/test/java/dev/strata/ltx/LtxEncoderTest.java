package dev.strata.ltx;

import static dev.strata.ltx.LtxSpec.header;
import static dev.strata.ltx.LtxSpec.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Ports of superfly/ltx v0.3.14 encoder tests, the file-checksum vectors of spec §1.12, and round trips. */
class LtxEncoderTest {
  private static final int FLAG_LZ4 = LtxHeader.FLAG_COMPRESS_LZ4;

  private static LtxEncoder encoder(LtxHeader h) throws IOException {
    return new LtxEncoder(OutputStream.nullOutputStream(), h);
  }

  @Test
  void TestEncoder_OK() throws IOException {
    Random r = new Random(0);
    byte[] page0 = new byte[4096], page1 = new byte[4096];
    r.nextBytes(page0);
    r.nextBytes(page1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxHeader h = header(0, 4096, 3, 5, 6, 2000, Checksum.FLAG | 5);
    LtxEncoder enc = new LtxEncoder(out, h);
    enc.encodePage(1, page0);
    enc.encodePage(2, page1);
    LtxTrailer t = enc.finish(Checksum.FLAG | 6);
    assertThat(enc.finish(Checksum.FLAG | 6)).as("finishing twice is a no-op").isSameAs(t);
    assertThat(out.size()).as("nothing more written").isEqualTo(100 + 2 * (4 + 4096) + 4 + 16);

    assertThat(enc.header().preApplyPos()).isEqualTo(new Pos(4, Checksum.FLAG | 5));
    assertThat(new LtxFileInfo(enc.header(), t, enc.pageCount()).postApplyPos()).isEqualTo(new Pos(6, Checksum.FLAG | 6));
    LtxSpec back = LtxSpec.decode(out.toByteArray());
    assertThat(back.pages()).containsExactly(new LtxSpec.Page(1, page0), new LtxSpec.Page(2, page1));
    assertThat(back.trailer()).isEqualTo(t);
  }

  @Test
  void TestEncoder_CommitZero() throws IOException {
    LtxEncoder enc = encoder(header(0, 4096, 0, 5, 6, 2000, Checksum.FLAG | 5));
    LtxTrailer t = enc.finish(Checksum.FLAG);
    assertThat(enc.header().preApplyPos()).isEqualTo(new Pos(4, Checksum.FLAG | 5));
    assertThat(new LtxFileInfo(enc.header(), t, 0).postApplyPos()).isEqualTo(new Pos(6, Checksum.FLAG));
  }

  @Test
  void TestEncoder_ErrInvalidCommitZeroPostApplyChecksum() throws IOException {
    LtxEncoder enc = encoder(header(0, 4096, 0, 5, 6, 2000, Checksum.FLAG | 5));
    assertThatThrownBy(() -> enc.finish(Checksum.FLAG | 1)).isInstanceOf(LtxException.class)
        .hasMessage("post-apply checksum must be empty for zero-length database");
  }

  @Test
  void TestEncode_Close_ErrClosed() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 1, 1, 1, 0, 0));
    enc.encodePage(1, new byte[1024]);
    enc.finish(Checksum.ofPage(1, new byte[1024]));
    assertThatThrownBy(() -> enc.encodePage(1, new byte[1024])).isInstanceOf(LtxException.class)
        .hasMessage("ltx encoder closed");
    assertThatThrownBy(() -> enc.finish(Checksum.FLAG | 9)).hasMessage("ltx encoder closed");
  }

  @Test
  void rejectsAnInvalidHeaderBeforeWritingAnything() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> new LtxEncoder(out, header(0, 1000, 1, 1, 1, 0, 0)))
        .isInstanceOf(LtxException.class).hasMessage("invalid page size: 1000");
    assertThat(out.size()).isZero();
  }

  @Test
  void rejectsTheNoChecksumFlagAsV0314Does() {
    assertThatThrownBy(() -> encoder(header(LtxHeader.FLAG_NO_CHECKSUM, 1024, 1, 1, 1, 0, 0)))
        .hasMessage("invalid flags: 0x00000002");
  }

  @Test
  void TestEncode_EncodePage_ErrPageNumberRequired() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 1, 1, 1, 0, 0));
    assertThatThrownBy(() -> enc.encodePage(0, new byte[1024])).hasMessage("page number required");
  }

  @Test
  void TestEncode_EncodePage_ErrPageNumberOutOfBounds() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 4, 2, 2, 0, Checksum.FLAG | 2));
    assertThatThrownBy(() -> enc.encodePage(5, new byte[1024])).hasMessage("page number 5 out-of-bounds for commit size 4");
    assertThatThrownBy(() -> enc.encodePage(-1, new byte[1024]))
        .hasMessage("page number 4294967295 out-of-bounds for commit size 4");
  }

  @Test
  void TestEncode_EncodePage_ErrSnapshotInitialPage() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 2, 1, 2, 0, 0));
    assertThatThrownBy(() -> enc.encodePage(2, new byte[1024]))
        .hasMessage("snapshot transaction file must start with page number 1");
  }

  @Test
  void TestEncode_EncodePage_ErrSnapshotNonsequentialPages() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 3, 1, 1, 0, 0));
    enc.encodePage(1, new byte[1024]);
    assertThatThrownBy(() -> enc.encodePage(3, new byte[1024]))
        .hasMessage("nonsequential page numbers in snapshot transaction: 1,3");
  }

  /** Encodes 1 GiB of 4096-byte pages (to nowhere) to reach the lock page, as Go's test does. */
  @Test
  void TestEncode_EncodePage_ErrCannotEncodeLockPage() throws IOException {
    LtxEncoder enc = encoder(header(0, 4096, 262145, 1, 1, 0, 0));
    byte[] page = new byte[4096];
    for (int pgno = 1; pgno <= 262144; pgno++) enc.encodePage(pgno, page);
    assertThatThrownBy(() -> enc.encodePage(262145, page)).hasMessage("cannot encode lock page: pgno=262145");
  }

  @Test
  void TestEncode_EncodePage_ErrSnapshotNonsequentialPagesAfterLockPage() throws IOException {
    LtxEncoder enc = encoder(header(0, 4096, 262147, 1, 1, 0, 0));
    byte[] page = new byte[4096];
    for (int pgno = 1; pgno <= 262144; pgno++) enc.encodePage(pgno, page);
    assertThatThrownBy(() -> enc.encodePage(262147, page))
        .hasMessage("nonsequential page numbers in snapshot transaction (skip lock page): 262144,262147");
  }

  @Test
  void TestEncode_EncodePage_ErrOutOfOrderPages() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 2, 2, 2, 0, Checksum.FLAG | 2));
    enc.encodePage(2, new byte[1024]);
    assertThatThrownBy(() -> enc.encodePage(1, new byte[1024])).hasMessage("out-of-order page numbers: 2,1");
    assertThatThrownBy(() -> enc.encodePage(2, new byte[1024])).hasMessage("out-of-order page numbers: 2,2");
  }

  @Test
  void rejectsAShortPageBuffer() throws IOException {
    LtxEncoder enc = encoder(header(0, 1024, 2, 1, 1, 0, 0));
    assertThatThrownBy(() -> enc.encodePage(1, new byte[1024], 1)).hasMessage("invalid page buffer size: 1023, expecting 1024");
  }

  @Test
  void anIncrementalFileMaySkipTheLockPageButNotHoldIt() throws IOException {
    int lock = LtxHeader.lockPgno(512);
    LtxHeader h = header(FLAG_LZ4, 512, lock + 1, 2, 2, 0, Checksum.FLAG | 1);
    byte[] file = LtxSpec.encode(h, Checksum.FLAG | 2, page(lock - 1, 'a', 512), page(lock + 1, 'b', 512));
    assertThat(LtxSpec.decode(file).pgnos()).containsExactly(lock - 1, lock + 1);
    assertThatThrownBy(() -> encoder(h).encodePage(lock, new byte[512])).hasMessage("cannot encode lock page: pgno=" + lock);
  }

  @Test
  void aSnapshotMustReachItsCommitAndCarryItsOwnChecksum() throws IOException {
    LtxEncoder short1 = encoder(header(0, 512, 2, 1, 1, 0, 0));
    short1.encodePage(1, page(1, '1', 512).data());
    assertThatThrownBy(() -> short1.finish(0xeb1a999231044dddL)).hasMessage("snapshot ends at page 1 but commit is 2");

    LtxEncoder wrong = encoder(header(0, 512, 1, 1, 1, 0, 0));
    wrong.encodePage(1, page(1, '1', 512).data());
    assertThatThrownBy(() -> wrong.finish(Checksum.FLAG | 1))
        .hasMessage("post-apply checksum 8000000000000001 does not match the snapshot's pages (eb1a999231044ddd)");
  }

  @Test
  void rejectsAMissingOrUnflaggedPostApplyChecksum() throws IOException {
    LtxHeader h = header(0, 512, 2, 2, 2, 0, Checksum.FLAG | 1);
    assertThatThrownBy(() -> encoder(h).finish(0)).hasMessage("post-apply checksum required");
    assertThatThrownBy(() -> encoder(h).finish(1)).hasMessage("invalid post-apply checksum format");
  }

  /** The file checksums of spec §1.12 (golden files and litefs-backup tests), all 512-byte pages. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "vecA, 0, 1, 1, 1, 1000, 0000000000000000, 0, 1, bab9b3d8b4fa3b31",
    "vecB, 1, 2, 1, 6, 0, 0000000000000000, 0, 56, bb0e2065ff682755",
    "vecB uncompressed, 0, 2, 1, 6, 0, 0000000000000000, 0, 56, ce15b9c694d9e194",
    "vecC, 1, 0, 1, 6, 0, 0000000000000000, 0, '', 8553be86dc216640",
    "vecD, 0, 2, 2, 2, 2000, eb1a999231044ddd, 7, -2, 965563c09b78aba7",
    "lfsb RestoreToTx TX1 snapshot, 1, 1, 1, 3, 1686837600000, 0000000000000000, 0, 1, d3745d48bef1677c",
    "lfsb CompactToSnapshot L9, 1, 2, 1, 2, 0, 0000000000000000, 0, 12, b140bf35427d1cff",
    "lfsb RestoreToTx 2-page snapshot, 1, 2, 1, 3, 1686837600000, 0000000000000000, 0, 12, bda6246263241293",
  })
  void fileChecksumVectors(String name, int flags, int commit, long min, long max, long ts, String pre, long nodeId,
      String pages, String want) throws IOException {
    LtxHeader h = new LtxHeader(flags, 512, commit, min, max, ts, Checksum.parse(pre), 0, 0, 0, 0, nodeId);
    // pages: one digit per page, in order from page 1 ("56" = page 1 of '5', page 2 of '6'); "-2" = only page 2 of '2'
    List<LtxSpec.Page> list = new ArrayList<>();
    if (pages.startsWith("-")) list.add(page(2, pages.charAt(1), 512));
    else for (int i = 0; i < pages.length(); i++) list.add(page(i + 1, pages.charAt(i), 512));
    long post = commit == 0 ? Checksum.EMPTY_DATABASE : 0xad2dffe333333333L;
    if (pages.equals("1")) post = 0xeb1a999231044dddL;

    byte[] file = LtxSpec.encode(h, post, list.toArray(LtxSpec.Page[]::new));
    assertThat(Checksum.format(LtxTrailer.decode(file, file.length - 16).fileChecksum())).isEqualTo(want);
    assertThat(LtxDecoder.verify(new ByteArrayInputStream(file)).trailer().fileChecksum())
        .isEqualTo(Checksum.parse(want));
    if (flags == 0 && name.matches("vec[A-D]")) assertThat(file).isEqualTo(Golden.bytes(name + ".ltx"));
  }

  @Test
  void compressedPageBlockIsOneLz4FrameWithLtxParameters() throws IOException {
    byte[] file = LtxSpec.encode(header(FLAG_LZ4, 512, 2, 1, 6, 0, 0), 0xad2dffe333333333L, page(1, '5', 512),
        page(2, '6', 512));
    // magic 04224d18, FLG 0x64, BD 0x40, HC 0xa7 (spec §1.5)
    assertThat(Arrays.copyOfRange(file, 100, 107)).containsExactly(0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7);
    byte[] vecB = Golden.bytes("vecB.ltx");
    assertThat(Arrays.copyOfRange(file, file.length - 16, file.length))
        .isEqualTo(Arrays.copyOfRange(vecB, vecB.length - 16, vecB.length));
  }

  @Test
  void incompressiblePagesAreStoredRaw() throws IOException {
    byte[] data = new byte[65536];
    new Random(3).nextBytes(data);
    LtxSpec.Page p = new LtxSpec.Page(1, data);
    byte[] file = LtxSpec.encode(header(FLAG_LZ4, 65536, 1, 1, 1, 0, 0), Checksum.ofPage(1, data), p);
    assertThat(LtxSpec.decode(file).pages()).containsExactly(p);
    assertThat(file.length).as("stored blocks cost 4 bytes each").isLessThan(65536 + 4 + 100 + 16 + 64);
  }

  /** Round trips of random files; the seed is printed so that a failure can be replayed. */
  @Nested
  class RoundTrips {
    private final long seed = new Random().nextLong();
    private final Random r = new Random(seed);

    /** Page data that compresses some: runs of one byte, text-like runs and random runs. */
    private byte[] pageData(int size) {
      byte[] b = new byte[size];
      for (int i = 0; i < size; ) {
        int run = Math.min(size - i, 1 + r.nextInt(200));
        switch (r.nextInt(3)) {
          case 0 -> Arrays.fill(b, i, i + run, (byte) r.nextInt(256));
          case 1 -> {
            for (int k = i; k < i + run; k++) b[k] = (byte) ('a' + r.nextInt(6));
          }
          default -> {
            for (int k = i; k < i + run; k++) b[k] = (byte) r.nextInt(256);
          }
        }
        i += run;
      }
      return b;
    }

    @Test
    void randomFilesRoundTrip() throws IOException {
      System.out.println("LtxEncoderTest.RoundTrips seed " + seed);
      for (int i = 0; i < 150; i++) {
        int pageSize = 512 << (i % 10 == 9 ? r.nextInt(8) : r.nextInt(4)); // mostly small pages, for speed
        int commit = r.nextInt(40);
        boolean snapshot = r.nextInt(3) == 0;
        int flags = r.nextBoolean() ? FLAG_LZ4 : 0;
        long min = snapshot ? 1 : 2 + r.nextInt(1000);
        LtxHeader h = new LtxHeader(flags, pageSize, commit, min, min + r.nextInt(5), r.nextLong(),
            snapshot ? 0 : Checksum.FLAG | r.nextLong(), 0, 0, 0, 0, r.nextInt(3));
        List<LtxSpec.Page> pages = new ArrayList<>();
        for (int pgno = 1; pgno <= commit; pgno++) {
          if (snapshot || r.nextInt(3) == 0) pages.add(new LtxSpec.Page(pgno, pageData(pageSize)));
        }
        long post = Checksum.EMPTY_DATABASE;
        for (LtxSpec.Page p : pages) post = Checksum.roll(post, 0, Checksum.ofPage(p.pgno(), p.data()));
        if (!snapshot && commit > 0) post = Checksum.FLAG | r.nextLong();

        byte[] file = LtxSpec.encode(h, post, pages.toArray(LtxSpec.Page[]::new));
        String context = "seed " + seed + ", case " + i;
        LtxSpec back = LtxSpec.decode(file);
        assertThat(back.header()).as(context).isEqualTo(h);
        assertThat(back.pages()).as(context).isEqualTo(pages);
        assertThat(back.trailer().postApplyChecksum()).as(context).isEqualTo(post);
        assertThat(back.trailer().fileChecksum()).as(context).isEqualTo(fileChecksum(h, pages, post));
        if (flags == 0) assertThat(file.length).as(context).isEqualTo(100 + pages.size() * (4 + pageSize) + 4 + 16);
        if (snapshot) {
          ByteArrayOutputStream db = new ByteArrayOutputStream();
          new LtxDecoder(new ByteArrayInputStream(file)).decodeDatabaseTo(db);
          ByteArrayOutputStream want = new ByteArrayOutputStream();
          for (LtxSpec.Page p : pages) want.write(p.data());
          assertThat(db.toByteArray()).as(context).isEqualTo(want.toByteArray());
        }
      }
    }

    /** The file checksum by its definition (§1.6): CRC of header ‖ uncompressed frames ‖ terminator ‖ post. */
    private long fileChecksum(LtxHeader h, List<LtxSpec.Page> pages, long post) {
      Crc64 crc = new Crc64().update(h.encode());
      for (LtxSpec.Page p : pages) crc.updateInt(p.pgno()).update(p.data());
      crc.updateInt(0);
      crc.update(new LtxTrailer(post, 0).encode(), 0, 8);
      return Checksum.FLAG | crc.value();
    }

    /**
     * A snapshot of 64 KiB pages that crosses the lock page (16385) at 1 GiB, encoded from a generator into a
     * stream that only counts bytes: the size is exact and nothing big is held.
     */
    @Test
    void aSnapshotAcrossTheLockPageEncodesInConstantMemory() throws IOException {
      System.out.println("LtxEncoderTest.RoundTrips lock page seed " + seed);
      int pageSize = 65536, lock = LtxHeader.lockPgno(pageSize);
      assertThat(lock).isEqualTo(16385);
      int commit = lock + 1 + r.nextInt(20);
      long[] counted = {0};
      OutputStream counter = new OutputStream() {
        @Override
        public void write(int b) {
          counted[0]++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
          counted[0] += len;
        }
      };
      LtxEncoder enc = new LtxEncoder(counter, header(0, pageSize, commit, 1, 1, 0, 0));
      byte[] page = new byte[pageSize];
      long salt = r.nextLong(), database = Checksum.EMPTY_DATABASE;
      for (int pgno = 1; pgno <= commit; pgno++) {
        if (pgno == lock) continue;
        fill(page, pgno, salt);
        database = Checksum.roll(database, 0, Checksum.ofPage(pgno, page));
        enc.encodePage(pgno, page);
      }
      assertThat(enc.pagesChecksum()).as("seed %d", seed).isEqualTo(database);
      enc.finish(database);
      assertThat(counted[0]).isEqualTo(100 + (commit - 1L) * (4 + pageSize) + 4 + 16);
    }

    /** The same crossing read back: compressed, streamed from a generator through encoder and decoder. */
    @Test
    void aCompressedSnapshotAcrossTheLockPageDecodesToADatabase() throws IOException {
      System.out.println("LtxEncoderTest.RoundTrips lock page decode seed " + seed);
      int pageSize = 65536, lock = LtxHeader.lockPgno(pageSize);
      int commit = lock + 1 + r.nextInt(20);
      long salt = r.nextLong();
      GeneratedSnapshot file = new GeneratedSnapshot(FLAG_LZ4, pageSize, commit, (pgno, p) -> Arrays.fill(p,
          (byte) (pgno ^ salt)));
      LtxDecoderTest.DatabaseCheck db = new LtxDecoderTest.DatabaseCheck(pageSize, lock, pgno -> (byte) (pgno ^ salt));
      new LtxDecoder(file).decodeDatabaseTo(db);
      assertThat(db.length).as("seed %d", seed).isEqualTo((long) commit * pageSize);
    }

    private void fill(byte[] page, int pgno, long salt) {
      Arrays.fill(page, (byte) (pgno * 31 + salt));
      page[0] = (byte) (pgno >>> 8);
      page[1] = (byte) pgno;
    }
  }
}
