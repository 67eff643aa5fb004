package dev.strata.ltx;

import static dev.strata.ltx.LtxSpec.header;
import static dev.strata.ltx.LtxSpec.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Ports of superfly/ltx v0.3.14 decoder tests, the v2/v3 version files, and {@code decodeDatabaseTo}. */
class LtxDecoderTest {
  private static final long E1899 = 0xe1899b6d587aaaaaL;

  @Test
  void TestDecoder_OK() throws IOException {
    decodesSpec(0);
  }

  @Test
  void TestDecoder_CompressLZ4() throws IOException {
    decodesSpec(LtxHeader.FLAG_COMPRESS_LZ4);
  }

  private static void decodesSpec(int flags) throws IOException {
    LtxHeader h = header(flags, 1024, 2, 1, 1, 1000, 0);
    byte[] file = LtxSpec.encode(h, E1899, page(1, '2', 1024), page(2, '3', 1024));

    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(file))) {
      assertThat(d.header()).isEqualTo(h);
      byte[] buf = new byte[1024];
      assertThat(d.readPage(buf)).isEqualTo(1);
      assertThat(buf).isEqualTo(page(1, '2', 1024).data());
      assertThat(d.readPage(buf)).isEqualTo(2);
      assertThat(buf).isEqualTo(page(2, '3', 1024).data());
      assertThat(d.readPage(buf)).isZero();
      assertThat(d.readPage(buf)).as("further calls stay at the end").isZero();
      LtxTrailer t = d.finish();
      assertThat(d.finish()).as("finish twice").isSameAs(t);
      assertThat(d.header().preApplyPos()).isEqualTo(Pos.ZERO);
      assertThat(new LtxFileInfo(d.header(), t, d.pageCount()).postApplyPos()).isEqualTo(new Pos(1, E1899));
    }
  }

  @Test
  void TestDecoder_Decode_CommitZero() throws IOException {
    LtxHeader h = header(0, 1024, 0, 1, 1, 1000, 0);
    byte[] file = LtxSpec.encode(h, Checksum.FLAG);

    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(file))) {
      assertThat(d.header()).isEqualTo(h);
      assertThat(d.readPage(new byte[1024])).isZero();
      LtxTrailer t = d.finish();
      assertThat(d.header().preApplyPos()).isEqualTo(Pos.ZERO);
      assertThat(new LtxFileInfo(h, t, 0).postApplyPos()).isEqualTo(new Pos(1, Checksum.FLAG));
    }
  }

  @Test
  void TestDecoder_DecodeDatabaseTo_OK() throws IOException {
    byte[] file = LtxSpec.encode(header(0, 512, 2, 1, 2, 1000, 0), 0x8b87423eeeeeeeeeL,
        page(1, '2', 512), page(2, '3', 512));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new LtxDecoder(new ByteArrayInputStream(file)).decodeDatabaseTo(out);

    byte[] want = new byte[1024];
    Arrays.fill(want, 0, 512, (byte) '2');
    Arrays.fill(want, 512, 1024, (byte) '3');
    assertThat(out.toByteArray()).isEqualTo(want);
  }

  @Test
  void TestDecoder_DecodeDatabaseTo_ZeroCommit() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new LtxDecoder(new ByteArrayInputStream(Golden.bytes("vecC.ltx"))).decodeDatabaseTo(out);
    assertThat(out.size()).isZero();
  }

  /**
   * A 1 GiB snapshot of 4096-byte pages ('x' everywhere) past the lock page, streamed through the encoder and the
   * decoder without being held anywhere; the database comes out with a zeroed lock page at offset 0x40000000.
   */
  @Test
  void TestDecoder_DecodeDatabaseTo_WithLockPage() throws IOException {
    int lockPgno = LtxHeader.lockPgno(4096);
    int commit = lockPgno + 10;
    GeneratedSnapshot file = new GeneratedSnapshot(0, 4096, commit, (pgno, page) -> Arrays.fill(page, (byte) 'x'));
    DatabaseCheck out = new DatabaseCheck(4096, lockPgno, pgno -> (byte) 'x');

    new LtxDecoder(file).decodeDatabaseTo(out);

    assertThat(out.length).isEqualTo((long) commit * 4096);
    assertThat(file.databaseChecksum()).isEqualTo(0xc19b668c376662c7L); // superfly/ltx's expectation
  }

  @Test
  void TestDecoder_DecodeDatabaseTo_ErrNonSnapshot() throws IOException {
    byte[] file = LtxSpec.encode(header(0, 512, 2, 2, 2, 1000, Checksum.FLAG | 1), Checksum.FLAG | 1,
        page(2, '3', 512));
    assertThatThrownBy(() -> new LtxDecoder(new ByteArrayInputStream(file)).decodeDatabaseTo(OutputStream.nullOutputStream()))
        .isInstanceOf(LtxException.class)
        .hasMessage("cannot decode non-snapshot LTX file to SQLite database");
  }

  @Test
  void decodeDatabaseToRejectsASnapshotThatStopsBeforeItsCommit() throws IOException {
    // Not writable with LtxEncoder (it checks the last page): patch commit 2 into a one-page snapshot.
    byte[] file = Golden.bytes("vecA.ltx");
    file[15] = 2;
    assertThatThrownBy(() -> new LtxDecoder(new ByteArrayInputStream(file)).decodeDatabaseTo(OutputStream.nullOutputStream()))
        .isInstanceOf(LtxException.class)
        .hasMessage("snapshot ends at page 1 but commit is 2");
  }

  @Test
  void TestPeekHeader_EOF() {
    assertThatThrownBy(() -> new LtxDecoder(new ByteArrayInputStream(new byte[0])))
        .isInstanceOf(LtxException.class).hasMessage("decode header: empty file");
  }

  @Test
  void TestPeekHeader_ErrUnexpectedEOF() {
    assertThatThrownBy(() -> new LtxDecoder(new ByteArrayInputStream("foo".getBytes())))
        .isInstanceOf(LtxException.class).hasMessage("decode header: truncated header (3 of 100 bytes)");
  }

  @Test
  void rejectsAHeaderOfAnotherFile() {
    byte[] x = new byte[100];
    Arrays.fill(x, (byte) 'X');
    assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(x)))
        .isInstanceOf(LtxException.class).hasMessage("decode header: unmarshal header: invalid LTX file");
  }

  @Test
  void rejectsAnInvalidHeaderBeforeReadingPages() {
    byte[] file = Golden.bytes("vecA.ltx");
    file[7] = 4; // flags 0x4
    assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
        .isInstanceOf(LtxException.class).hasMessage("decode header: invalid flags: 0x00000004");
  }

  @Test
  void rejectsAFileChecksumMismatch() {
    byte[] file = Golden.bytes("vecA.ltx");
    file[file.length - 1] ^= 1;
    assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
        .isInstanceOf(LtxException.class)
        .hasMessage("file checksum mismatch: trailer has bab9b3d8b4fa3b30, computed bab9b3d8b4fa3b31");
  }

  /**
   * The decoder skips the LZ4 frame's own checksums (the file checksum covers the same bytes): a page changed
   * inside a compressed block that still decompresses is caught by the file checksum.
   */
  @Test
  void rejectsAPageChangedInsideItsLz4Block() throws IOException {
    java.util.Random random = new java.util.Random(7);
    byte[][] pages = new byte[3][512];
    for (byte[] p : pages) random.nextBytes(p); // incompressible: each block is stored, its bytes as they are
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, 512, 3, 1, 1, 0, 0));
    for (int i = 0; i < pages.length; i++) enc.encodePage(i + 1, pages[i]);
    enc.finish(enc.pagesChecksum());
    byte[] file = out.toByteArray();
    LtxDecoder.verify(new ByteArrayInputStream(file));
    int at = indexOf(file, Arrays.copyOfRange(pages[1], 100, 132)); // inside page 2's stored block
    assertThat(at).isPositive();
    file[at] ^= 0x40;
    assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
        .isInstanceOf(LtxException.class).hasMessageStartingWith("file checksum mismatch");
  }

  private static int indexOf(byte[] in, byte[] what) {
    for (int i = 0; i + what.length <= in.length; i++) {
      if (Arrays.equals(in, i, i + what.length, what, 0, what.length)) return i;
    }
    return -1;
  }

  @Test
  void rejectsASnapshotWhosePostApplyChecksumIsNotItsPages() throws IOException {
    // The encoder refuses to write this.
    byte[] file = LtxSpec.raw(header(0, 512, 1, 1, 1, 0, 0), Checksum.FLAG | 5, page(1, '1', 512));

    assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
        .isInstanceOf(LtxException.class)
        .hasMessage("post-apply checksum in trailer (8000000000000005) does not match calculated checksum "
            + "(eb1a999231044ddd)");
  }

  @Test
  void rejectsDataAfterTheTrailer() {
    byte[] file = Arrays.copyOf(Golden.bytes("vecA.ltx"), 637);
    assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
        .isInstanceOf(LtxException.class).hasMessage("unexpected data after trailer");
  }

  @Test
  void verifyReportsHeaderTrailerAndPageCount() throws IOException {
    LtxFileInfo info = LtxDecoder.verify(new ByteArrayInputStream(Golden.bytes("vecB.ltx")));
    assertThat(info.pageCount()).isEqualTo(2);
    assertThat(info.header().commit()).isEqualTo(2);
    assertThat(info.postApplyPos()).isEqualTo(new Pos(6, 0xad2dffe333333333L));
  }

  /** Files written by superfly/ltx v0.3.14 … v0.5.2, checked against their manifests. */
  @Nested
  class Versions {
    static Stream<LtxVersionsFixture.Entry> readable() {
      return LtxVersionsFixture.entries().filter(e -> !isV1NoChecksum(e));
    }

    static Stream<LtxVersionsFixture.Entry> v1NoChecksum() {
      return LtxVersionsFixture.entries().filter(Versions::isV1NoChecksum);
    }

    static boolean isV1NoChecksum(LtxVersionsFixture.Entry e) {
      return e.format() == LtxFormat.V1 && e.variant().equals("nochecksum");
    }

    @Test
    void everyManifestIsPresent() {
      assertThat(LtxVersionsFixture.entries().map(e -> e.tag().split(" ")[0]).distinct())
          .containsExactly("v0.3.14", "v0.3.18", "v0.4.0", "v0.5.1", "v0.5.2");
      assertThat(LtxVersionsFixture.entries()).hasSize(22);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readable")
    void decodesToTheManifest(LtxVersionsFixture.Entry e) throws IOException {
      byte[] file = e.bytes();
      assertThat((long) file.length).isEqualTo(e.json().get("file_size"));
      LtxSpec spec = LtxSpec.decode(file, e.format());

      Map<String, Object> h = e.header();
      LtxHeader header = spec.header();
      assertThat(header.flags()).isEqualTo(((Long) h.get("flags")).intValue());
      assertThat(header.pageSize()).isEqualTo(((Long) h.get("page_size")).intValue());
      assertThat(header.commit()).isEqualTo(((Long) h.get("commit")).intValue());
      assertThat(Txid.format(header.minTxid())).isEqualTo(h.get("min_txid"));
      assertThat(Txid.format(header.maxTxid())).isEqualTo(h.get("max_txid"));
      assertThat(header.timestamp()).isEqualTo(h.get("timestamp_ms"));
      assertThat(Checksum.format(header.preApplyChecksum())).isEqualTo(h.get("pre_apply_checksum"));
      assertThat(header.walOffset()).isEqualTo(h.get("wal_offset"));
      assertThat(header.walSize()).isEqualTo(h.get("wal_size"));
      assertThat(Integer.toUnsignedLong(header.walSalt1())).isEqualTo(h.get("wal_salt1"));
      assertThat(Integer.toUnsignedLong(header.walSalt2())).isEqualTo(h.get("wal_salt2"));
      assertThat(header.nodeId()).isEqualTo(h.get("node_id"));
      assertThat(HexFormat.of().formatHex(header.encode())).isEqualTo(e.string("header_hex"));

      List<Map<String, Object>> pages = e.pages();
      assertThat(spec.pages()).hasSize(pages.size());
      for (int i = 0; i < pages.size(); i++) {
        Map<String, Object> p = pages.get(i);
        LtxSpec.Page got = spec.pages().get(i);
        assertThat((long) got.pgno()).isEqualTo(p.get("pgno"));
        assertThat(got.data()).isEqualTo(LtxVersionsFixture.pattern((String) p.get("pattern")));
        assertThat(sha256(got.data())).isEqualTo(p.get("page_sha256"));
        assertThat(Checksum.format(Checksum.ofPage(got.pgno(), got.data()))).isEqualTo(p.get("page_checksum"));
      }

      assertThat(Checksum.format(spec.trailer().postApplyChecksum())).isEqualTo(e.string("post_apply_checksum"));
      assertThat(Checksum.format(spec.trailer().fileChecksum())).isEqualTo(e.string("file_checksum"));
      assertThat(HexFormat.of().formatHex(spec.trailer().encode())).isEqualTo(e.string("trailer_hex"));
      assertThat(sha256(file)).isEqualTo(e.string("file_sha256"));
    }

    /** The database checksum after applying the file, recomputed from the page patterns (§1.6 rolling rule). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("readable")
    void databaseChecksumAfterApplyFollowsTheRollingRule(LtxVersionsFixture.Entry e) {
      long p1 = Checksum.ofPage(1, LtxVersionsFixture.pattern("P1"));
      long p2a = Checksum.ofPage(2, LtxVersionsFixture.pattern("P2a"));
      long p3 = Checksum.ofPage(3, LtxVersionsFixture.pattern("P3"));
      long snapshot = Checksum.roll(Checksum.roll(Checksum.roll(Checksum.EMPTY_DATABASE, 0, p1), 0, p2a), 0, p3);
      long after = e.json().get("kind").equals("snapshot") ? snapshot
          : Checksum.roll(snapshot, p2a, Checksum.ofPage(2, LtxVersionsFixture.pattern("P2b")));
      assertThat(Checksum.format(after)).isEqualTo(e.string("db_checksum_after_apply"));
    }

    /** superfly/ltx v0.3.15+ added flag 0x2 to v1; a v0.3.14 reader, which Strata's v1 is, rejects it (§1.1). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("v1NoChecksum")
    void v1FilesWithTheNoChecksumFlagAreRejectedAsV0314Does(LtxVersionsFixture.Entry e) {
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(e.bytes()), LtxFormat.V1))
          .isInstanceOf(LtxException.class).hasMessage("decode header: invalid flags: 0x00000002");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readable")
    void isRejectedInAnyOtherFormat(LtxVersionsFixture.Entry e) {
      for (LtxFormat other : LtxFormat.values()) {
        if (other == e.format()) continue;
        assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(e.bytes()), other))
            .as("%s read as %s", e.file(), other).isInstanceOf(LtxException.class);
      }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readable")
    void decodeDatabaseToGivesTheManifestImage(LtxVersionsFixture.Entry e) throws IOException {
      if (!e.json().get("kind").equals("snapshot")) return;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      new LtxDecoder(new ByteArrayInputStream(e.bytes()), e.format()).decodeDatabaseTo(out);
      assertThat(sha256(out.toByteArray())).isEqualTo(e.string("db_image_after_apply_sha256"));
    }
  }

  /** Hand-made v2/v3 files for the rules the version files do not exercise. */
  @Nested
  class V3Rules {
    private byte[] v052Snapshot() {
      return LtxVersionsFixture.entries().filter(e -> e.file().startsWith("ltx-v0.5.2-std-snapshot"))
          .findFirst().orElseThrow().bytes();
    }

    @Test
    void rejectsUnknownPageHeaderFlags() {
      byte[] file = v052Snapshot();
      file[105] |= 0x02; // first frame: pgno at 100, flags at 104..105
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file), LtxFormat.V3))
          .isInstanceOf(LtxException.class).hasMessage("invalid page header flags: 0x0003");
    }

    /** superfly/ltx TestPageHeader_Validate: only the all-zero header ends the page block. */
    @Test
    void TestPageHeader_Validate_ErrPgnoRequired() {
      byte[] file = v052Snapshot();
      file[103] = 0; // first frame: pgno 1 → 0, flags still 0x0001
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file), LtxFormat.V3))
          .isInstanceOf(LtxException.class).hasMessage("page number required");
    }

    @Test
    void rejectsACompressedSizeBeyondTheLz4Bound() {
      byte[] file = v052Snapshot();
      file[106] = 0x7F; // size prefix at 106..109
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file), LtxFormat.V3))
          .isInstanceOf(LtxException.class).hasMessageStartingWith("decompress block: compressed size");
    }

    @Test
    void rejectsAPageIndexThatDisagreesWithTheFrames() {
      byte[] file = v052Snapshot();
      // The index follows the 6-byte terminator; its entries are (1,100,303) (2,403,48) (3,451,4124).
      int index = 4575 + 6;
      assertThat(file[index]).isEqualTo((byte) 1);
      file[index] = 2; // claims page 2 at offset 100
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file), LtxFormat.V3))
          .isInstanceOf(LtxException.class).hasMessage("page index does not match the page frames");
    }

    @Test
    void noChecksumFilesMustNotCarryAPostApplyChecksum() throws IOException {
      byte[] file = LtxVersionsFixture.entries()
          .filter(e -> e.file().startsWith("ltx-v0.5.2-nochecksum-snapshot")).findFirst().orElseThrow().bytes();
      assertThat(LtxDecoder.verify(new ByteArrayInputStream(file), LtxFormat.V3).trailer().postApplyChecksum()).isZero();
      file[file.length - 16] = (byte) 0x80;
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file), LtxFormat.V3))
          .isInstanceOf(LtxException.class).hasMessage("post-apply checksum not allowed");
    }

    @ParameterizedTest
    @EnumSource(value = LtxFormat.class, names = {"V2", "V3"})
    void v1FlagsAreInvalidInLaterFormats(LtxFormat format) {
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(Golden.bytes("vecB.ltx")), format))
          .isInstanceOf(LtxException.class).hasMessage("decode header: invalid flags: 0x00000001");
    }
  }

  /**
   * Corrupt input: every single-bit flip and every truncation of every golden file is rejected with an
   * {@link LtxException} (never another exception, a hang or an out-of-memory).
   */
  @Nested
  class BadInput {
    static Stream<String> goldenFiles() {
      return Stream.of("vecA.ltx", "vecB.ltx", "vecC.ltx", "vecD.ltx", "vecAD.ltx",
          "litefs-testdata-000000000000000d-000000000000000d.ltx");
    }

    /**
     * Every flip is caught except, in LZ4-compressed data, flips that change only how the compressed bytes spell
     * the same content: the match-length nibble of a block's last token, which LZ4 decoders ignore (the last
     * sequence is literals only), or a match offset moved by a multiple of the data's period (the v2 files have a
     * page with period 256). Every checksum in LTX and LZ4 covers uncompressed content, so such flips are
     * undetectable by design and harmless: the file decodes to exactly the original header, pages and trailer.
     */
    @ParameterizedTest
    @MethodSource("goldenFiles")
    void everySingleBitFlipIsRejected(String name) throws IOException {
      byte[] file = Golden.bytes(name);
      LtxSpec original = LtxSpec.decode(file);
      int accepted = 0;
      for (int bit = 0; bit < file.length * 8; bit++) {
        byte[] flipped = file.clone();
        flipped[bit / 8] ^= (byte) (1 << (bit % 8));
        if (isAccepted(flipped, LtxFormat.V1)) {
          accepted++;
          assertThat(original.header().isCompressed()).as("bit %d of uncompressed %s accepted", bit, name).isTrue();
          assertThat(LtxSpec.decode(flipped)).as("content after flipping bit %d", bit).isEqualTo(original);
        }
      }
      System.out.printf("%s: %d bit flips, %d representation-only flips accepted%n", name, file.length * 8, accepted);
    }

    @ParameterizedTest
    @MethodSource("goldenFiles")
    void everyTruncationIsRejected(String name) throws IOException {
      byte[] file = Golden.bytes(name);
      for (int length = 0; length < file.length; length++) {
        assertThat(isAccepted(Arrays.copyOf(file, length), LtxFormat.V1)).as("%s cut to %d bytes", name, length)
            .isFalse();
      }
    }

    /** The v2/v3 files too: every truncation, and every bit flip of the small (incremental) ones. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.strata.ltx.LtxDecoderTest$Versions#readable")
    void laterFormatsRejectTruncationsAndBitFlips(LtxVersionsFixture.Entry e) throws IOException {
      if (e.format() == LtxFormat.V1) return;
      byte[] file = e.bytes();
      for (int length = 0; length < file.length; length++) {
        assertThat(isAccepted(Arrays.copyOf(file, length), e.format())).as("cut to %d bytes", length).isFalse();
      }
      if (file.length > 1000) return;
      LtxSpec original = LtxSpec.decode(file, e.format());
      int accepted = 0;
      for (int bit = 0; bit < file.length * 8; bit++) {
        byte[] flipped = file.clone();
        flipped[bit / 8] ^= (byte) (1 << (bit % 8));
        if (isAccepted(flipped, e.format())) { // only representation-only flips, as in everySingleBitFlipIsRejected
          accepted++;
          assertThat(bit / 8).as("flip outside the compressed data").isBetween(100, file.length - 17);
          assertThat(LtxSpec.decode(flipped, e.format())).as("content after flipping bit %d", bit).isEqualTo(original);
        }
      }
      System.out.printf("%s: %d bit flips, %d representation-only flips accepted%n", e.file(), file.length * 8,
          accepted);
    }

    /**
     * Random multi-byte damage (overwritten runs, inserted and deleted bytes) of every golden and version file:
     * the decoder only ever throws LtxException, and whatever it accepts has the original content.
     */
    @Test
    void randomDamageOnlyEverRaisesLtxException() throws IOException {
      long seed = new java.util.Random().nextLong();
      System.out.println("LtxDecoderTest.BadInput random damage seed " + seed);
      java.util.Random r = new java.util.Random(seed);
      List<Object[]> files = new ArrayList<>();
      goldenFiles().forEach(n -> files.add(new Object[] {n, Golden.bytes(n), LtxFormat.V1}));
      Versions.readable().forEach(e -> files.add(new Object[] {e.file(), e.bytes(), e.format()}));
      for (Object[] f : files) {
        byte[] file = (byte[]) f[1];
        LtxFormat format = (LtxFormat) f[2];
        LtxSpec original = LtxSpec.decode(file, format);
        for (int i = 0; i < 300; i++) {
          byte[] damaged = damage(file, r);
          if (isAccepted(damaged, format)) {
            assertThat(LtxSpec.decode(damaged, format)).as("%s, seed %d, case %d", f[0], seed, i).isEqualTo(original);
          }
        }
      }
    }

    private byte[] damage(byte[] file, java.util.Random r) {
      int at = r.nextInt(file.length), n = 1 + r.nextInt(8);
      return switch (r.nextInt(3)) {
        case 0 -> { // overwrite a run
          byte[] b = file.clone();
          for (int i = at; i < Math.min(b.length, at + n); i++) b[i] = (byte) r.nextInt(256);
          yield b;
        }
        case 1 -> { // insert bytes
          byte[] b = new byte[file.length + n];
          System.arraycopy(file, 0, b, 0, at);
          for (int i = 0; i < n; i++) b[at + i] = (byte) r.nextInt(256);
          System.arraycopy(file, at, b, at + n, file.length - at);
          yield b;
        }
        default -> { // delete bytes
          int cut = Math.min(n, file.length - at);
          byte[] b = new byte[file.length - cut];
          System.arraycopy(file, 0, b, 0, at);
          System.arraycopy(file, at + cut, b, at, file.length - at - cut);
          yield b;
        }
      };
    }

    @Test
    void aHeaderClaimingPageSize2To31FailsFast() {
      byte[] file = Golden.bytes("vecA.ltx");
      file[8] = (byte) 0x80; // page size 0x80000000
      file[10] = 0;
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
          .isInstanceOf(LtxException.class).hasMessage("decode header: invalid page size: 2147483648");
    }

    @Test
    void aHeaderClaiming0xFFFFFFFFPagesFailsFast() throws IOException {
      byte[] file = Golden.bytes("vecA.ltx");
      Arrays.fill(file, 12, 16, (byte) 0xFF); // commit 4294967295
      assertThatThrownBy(() -> LtxDecoder.verify(new ByteArrayInputStream(file)))
          .isInstanceOf(LtxException.class).hasMessageStartingWith("file checksum mismatch");
      assertThatThrownBy(() -> new LtxDecoder(new ByteArrayInputStream(file))
          .decodeDatabaseTo(OutputStream.nullOutputStream()))
          .isInstanceOf(LtxException.class).hasMessage("snapshot ends at page 1 but commit is 4294967295");
    }

    @Test
    void aHeaderClaiming0xFFFFFFFFPagesWithValidChecksumsFailsFast() throws IOException {
      // A consistent snapshot that declares a huge database but holds one page (LtxEncoder refuses to write it).
      LtxSpec.Page page = new LtxSpec.Page(1, new byte[65536]);
      byte[] file = LtxSpec.raw(header(0, 65536, -1, 1, 1, 0, 0), Checksum.ofPage(1, page.data()), page);
      assertThat(LtxDecoder.verify(new ByteArrayInputStream(file)).pageCount())
          .as("like superfly/ltx, verify does not require a snapshot to reach its commit").isEqualTo(1);
      assertThatThrownBy(() -> new LtxDecoder(new ByteArrayInputStream(file))
          .decodeDatabaseTo(OutputStream.nullOutputStream()))
          .isInstanceOf(LtxException.class).hasMessage("snapshot ends at page 1 but commit is 4294967295");
    }

    private boolean isAccepted(byte[] file, LtxFormat format) throws IOException {
      try {
        LtxDecoder.verify(new ByteArrayInputStream(file), format);
        return true;
      } catch (LtxException e) {
        return false;
      }
    }
  }

  /** Checks a raw database as it is written: each page filled with its expected byte, the lock page zero. */
  static final class DatabaseCheck extends OutputStream {
    interface Fill {
      byte of(long pgno);
    }

    private final int pageSize;
    private final int lockPgno;
    private final Fill fill;
    long length;

    DatabaseCheck(int pageSize, int lockPgno, Fill fill) {
      this.pageSize = pageSize;
      this.lockPgno = lockPgno;
      this.fill = fill;
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        long pgno = length / pageSize + 1;
        int n = (int) Math.min(len, pageSize - length % pageSize);
        byte want = pgno == lockPgno ? 0 : fill.of(pgno);
        for (int i = off; i < off + n; i++) {
          if (b[i] != want) throw new AssertionError("byte " + b[i] + " at offset " + (length + i - off) + ", want " + want);
        }
        length += n;
        off += n;
        len -= n;
      }
    }
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
