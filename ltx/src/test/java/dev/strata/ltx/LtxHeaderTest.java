package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Ports of superfly/ltx v0.3.14's header tests (spec §1.3), plus the v2/v3 rules of §1.11. */
class LtxHeaderTest {
  /** A header with every field; the WAL fields and node ID are the ones Go's tests leave out of the common case. */
  private static LtxHeader h(int flags, int pageSize, int commit, long min, long max, long pre, long walOffset,
      long walSize, int salt1, int salt2) {
    return new LtxHeader(flags, pageSize, commit, min, max, 0, pre, walOffset, walSize, salt1, salt2, 0);
  }

  private static void assertInvalid(LtxHeader header, String message) {
    assertThatThrownBy(header::validate).isInstanceOf(LtxException.class).hasMessage(message);
  }

  @Test
  void TestHeader_Validate_OK() {
    assertThatCode(h(0, 1024, 2, 3, 4, Checksum.FLAG, 7, 8, 5, 6)::validate).doesNotThrowAnyException();
  }

  @Test
  void TestHeader_Validate_CommitZero() {
    assertThatCode(h(0, 1024, 0, 5, 5, Checksum.FLAG, 0, 0, 0, 0)::validate).doesNotThrowAnyException();
  }

  /** Java headers carry no version; the format is named by the reader, and each has its own flags. */
  @Test
  void TestHeader_Validate_ErrVersion() throws LtxException {
    LtxHeader noChecksum = h(LtxHeader.FLAG_NO_CHECKSUM, 1024, 1, 1, 1, 0, 0, 0, 0, 0);
    assertThatThrownBy(() -> noChecksum.validate(LtxFormat.V1)).hasMessage("invalid flags: 0x00000002");
    noChecksum.validate(LtxFormat.V2);
    noChecksum.validate(LtxFormat.V3);
    LtxHeader lz4 = h(LtxHeader.FLAG_COMPRESS_LZ4, 1024, 1, 1, 1, 0, 0, 0, 0, 0);
    lz4.validate(LtxFormat.V1);
    assertThatThrownBy(() -> lz4.validate(LtxFormat.V3)).hasMessage("invalid flags: 0x00000001");
  }

  @Test
  void TestHeader_Validate_ErrFlags() {
    assertInvalid(h(2, 1024, 1, 1, 1, 0, 0, 0, 0, 0), "invalid flags: 0x00000002");
    assertInvalid(h(0x80000001, 1024, 1, 1, 1, 0, 0, 0, 0, 0), "invalid flags: 0x80000001");
  }

  @Test
  void TestHeader_Validate_ErrInvalidPageSize() {
    assertInvalid(h(0, 1000, 0, 0, 0, 0, 0, 0, 0, 0), "invalid page size: 1000");
    assertInvalid(h(0, 0x80000000, 0, 0, 0, 0, 0, 0, 0, 0), "invalid page size: 2147483648");
  }

  @Test
  void TestHeader_Validate_ErrMinTXIDRequired() {
    assertInvalid(h(0, 1024, 2, 0, 0, 0, 0, 0, 0, 0), "minimum transaction id required");
  }

  @Test
  void TestHeader_Validate_ErrMaxTXIDRequired() {
    assertInvalid(h(0, 1024, 2, 3, 0, 0, 0, 0, 0, 0), "maximum transaction id required");
  }

  @Test
  void TestHeader_Validate_ErrTXIDOutOfOrderRequired() {
    assertInvalid(h(0, 1024, 2, 3, 2, 0, 0, 0, 0, 0), "transaction ids out of order: (3,2)");
    assertInvalid(h(0, 1024, 2, -1, 2, 0, 0, 0, 0, 0), "transaction ids out of order: (18446744073709551615,2)");
  }

  @Test
  void TestHeader_Validate_ErrNegativeWALOffset() {
    assertInvalid(h(0, 1024, 2, 1, 1, 0, -1000, 0, 0, 0), "wal offset cannot be negative: -1000");
  }

  @Test
  void TestHeader_Validate_ErrNegativeWALSize() {
    assertInvalid(h(0, 1024, 2, 1, 1, 0, 32, -1000, 0, 0), "wal size cannot be negative: -1000");
  }

  @Test
  void TestHeader_Validate_ErrWALOffsetRequiredWithWALSalt() {
    assertInvalid(h(0, 1024, 2, 1, 1, 0, 0, 0, 100, 0), "wal offset required if salt exists");
  }

  @Test
  void TestHeader_Validate_ErrWALSizeRequiredWithWALSalt() {
    assertInvalid(h(0, 1024, 2, 1, 1, 0, 1000, 0, 0, 100), "wal size required if salt exists");
  }

  @Test
  void TestHeader_Validate_ErrWALSizeRequiredWithWALOffset() {
    assertInvalid(h(0, 1024, 2, 1, 1, 0, 1000, 0, 0, 0), "wal size required if wal offset exists");
  }

  @Test
  void TestHeader_Validate_ErrWALOffsetRequiredWithWALSize() {
    assertInvalid(h(0, 1024, 2, 1, 1, 0, 0, 1000, 0, 0), "wal offset required if wal size exists");
  }

  @Test
  void TestHeader_Validate_ErrSnapshotPreApplyChecksumNotAllowed() {
    assertInvalid(h(0, 1024, 4, 1, 3, 1, 0, 0, 0, 0), "pre-apply checksum must be zero on snapshots");
  }

  @Test
  void TestHeader_Validate_ErrNonSnapshotPreApplyChecksumRequired() {
    assertInvalid(h(0, 1024, 4, 2, 3, 0, 0, 0, 0, 0), "pre-apply checksum required on non-snapshot files");
  }

  @Test
  void TestHeader_Validate_ErrInvalidPreApplyChecksumFormat() {
    assertInvalid(h(0, 1024, 4, 2, 3, 1, 0, 0, 0, 0), "invalid pre-apply checksum format");
  }

  /** v2/v3 relax the WAL rules to "salt needs an offset" and "size needs an offset" (§1.11). */
  @Test
  void laterFormatsOnlyRequireAWalOffset() throws LtxException {
    LtxHeader saltAndOffset = h(0, 1024, 2, 1, 1, 0, 1000, 0, 0, 100);
    saltAndOffset.validate(LtxFormat.V2);
    saltAndOffset.validate(LtxFormat.V3);
    assertThatThrownBy(() -> h(0, 1024, 2, 1, 1, 0, 0, 0, 100, 0).validate(LtxFormat.V3))
        .hasMessage("wal offset required if salt exists");
    assertThatThrownBy(() -> h(0, 1024, 2, 1, 1, 0, 0, 1000, 0, 0).validate(LtxFormat.V3))
        .hasMessage("wal offset required if wal size exists");
  }

  @Test
  void noChecksumFilesCarryNoPreApplyChecksum() throws LtxException {
    h(LtxHeader.FLAG_NO_CHECKSUM, 1024, 2, 2, 2, 0, 0, 0, 0, 0).validate(LtxFormat.V3);
    assertThatThrownBy(() -> h(LtxHeader.FLAG_NO_CHECKSUM, 1024, 2, 2, 2, Checksum.FLAG | 1, 0, 0, 0, 0)
        .validate(LtxFormat.V3)).hasMessage("pre-apply checksum not allowed");
  }

  @Test
  void TestHeader_MarshalBinary() throws LtxException {
    LtxHeader header = new LtxHeader(0, 1024, 1006, 1007, 1008, 1009, 1011, 1014, 1015, 1012, 1013, 1016);
    byte[] b = header.encode();
    assertThat(b).hasSize(LtxHeader.SIZE);
    assertThat(LtxHeader.decode(b)).isEqualTo(header);
  }

  @Test
  void encodesTheDocumentedLayout() {
    // vecB's header (spec §1.12): magic, flags 1, page size 512, commit 2, TXIDs 1-6, all else zero.
    String want = "4c545831" + "00000001" + "00000200" + "00000002" + "0000000000000001" + "0000000000000006";
    LtxHeader vecB = LtxHeader.of(1, 512, 2, 1, 6, 0, 0);
    assertThat(HexFormat.of().formatHex(vecB.encode())).isEqualTo(want + "0".repeat(200 - want.length()));
    assertThat(vecB.encode()).isEqualTo(java.util.Arrays.copyOf(Golden.bytes("vecB.ltx"), 100));
  }

  @Test
  void TestHeader_UnmarshalBinary_ErrShortBuffer() {
    assertThatThrownBy(() -> LtxHeader.decode(new byte[10])).isInstanceOf(LtxException.class)
        .hasMessage("short header: 10 of 100 bytes");
  }

  @Test
  void TestHeader_UnmarshalBinary_ErrInvalidFile() {
    assertThatThrownBy(() -> LtxHeader.decode(new byte[100])).isInstanceOf(LtxException.class)
        .hasMessage("invalid LTX file");
  }

  @ParameterizedTest
  @ValueSource(ints = {512, 1024, 2048, 4096, 8192, 16384, 32768, 65536})
  void TestIsValidPageSize_OK(int size) {
    assertThat(LtxHeader.isValidPageSize(size)).isTrue();
  }

  @Test
  void TestIsValidPageSize_TooSmall() {
    assertThat(LtxHeader.isValidPageSize(256)).isFalse();
    assertThat(LtxHeader.isValidPageSize(0)).isFalse();
  }

  @Test
  void TestIsValidPageSize_TooLarge() {
    assertThat(LtxHeader.isValidPageSize(131072)).isFalse();
    assertThat(LtxHeader.isValidPageSize(1L << 31)).isFalse();
  }

  @Test
  void TestIsValidPageSize_NotPowerOfTwo() {
    assertThat(LtxHeader.isValidPageSize(1000)).isFalse();
  }

  @Test
  void lockPageNumbersOfSpec14() {
    int[][] expected = {{512, 2097153}, {1024, 1048577}, {2048, 524289}, {4096, 262145}, {8192, 131073},
        {16384, 65537}, {32768, 32769}, {65536, 16385}};
    for (int[] e : expected) assertThat(LtxHeader.lockPgno(e[0])).as("page size %d", e[0]).isEqualTo(e[1]);
  }

  @Test
  void preApplyPosIsTheTxidBeforeAndThePreApplyChecksum() {
    assertThat(LtxHeader.of(0, 4096, 3, 5, 6, 2000, Checksum.FLAG | 5).preApplyPos())
        .isEqualTo(new Pos(4, Checksum.FLAG | 5));
    assertThat(LtxHeader.of(0, 4096, 3, 1, 6, 2000, 0).preApplyPos()).isEqualTo(Pos.ZERO);
  }
}
