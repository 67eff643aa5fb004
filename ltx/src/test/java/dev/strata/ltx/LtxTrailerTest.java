package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Ports of superfly/ltx's trailer tests (spec §1.6, §1.7, §1.11). */
class LtxTrailerTest {
  private static final LtxHeader WITH_CHECKSUMS = LtxHeader.of(0, 1024, 1, 1, 1, 0, 0);
  private static final LtxHeader NO_CHECKSUM = LtxHeader.of(LtxHeader.FLAG_NO_CHECKSUM, 1024, 1, 1, 1, 0, 0);

  @Test
  void TestTrailer_Validate_OK() {
    assertThatCode(() -> new LtxTrailer(Checksum.FLAG | 1, Checksum.FLAG | 2).validate(WITH_CHECKSUMS))
        .doesNotThrowAnyException();
  }

  @Test
  void TestTrailer_Validate_ErrPostApplyChecksumRequired() {
    assertThatThrownBy(() -> new LtxTrailer(0, 0).validate(WITH_CHECKSUMS)).isInstanceOf(LtxException.class)
        .hasMessage("post-apply checksum required");
  }

  @Test
  void TestTrailer_Validate_ErrInvalidPostApplyChecksum() {
    assertThatThrownBy(() -> new LtxTrailer(1, 0).validate(WITH_CHECKSUMS))
        .hasMessage("invalid post-apply checksum format");
  }

  @Test
  void TestTrailer_Validate_ErrFileChecksumRequired() {
    assertThatThrownBy(() -> new LtxTrailer(Checksum.FLAG, 0).validate(WITH_CHECKSUMS))
        .hasMessage("file checksum required");
  }

  @Test
  void TestTrailer_Validate_ErrInvalidFileChecksum() {
    assertThatThrownBy(() -> new LtxTrailer(Checksum.FLAG, 1).validate(WITH_CHECKSUMS))
        .hasMessage("invalid file checksum format");
  }

  @Test
  void noChecksumFilesHaveNoPostApplyChecksumButAFileChecksum() throws LtxException {
    new LtxTrailer(0, Checksum.FLAG | 2).validate(NO_CHECKSUM);
    assertThatThrownBy(() -> new LtxTrailer(Checksum.FLAG, Checksum.FLAG | 2).validate(NO_CHECKSUM))
        .hasMessage("post-apply checksum not allowed");
    assertThatThrownBy(() -> new LtxTrailer(0, 0).validate(NO_CHECKSUM)).hasMessage("file checksum required");
  }

  @Test
  void encodesBothChecksumsBigEndian() {
    LtxTrailer t = new LtxTrailer(0xad2dffe333333333L, 0xbb0e2065ff682755L);
    byte[] vecB = Golden.bytes("vecB.ltx");
    assertThat(t.encode()).isEqualTo(java.util.Arrays.copyOfRange(vecB, vecB.length - 16, vecB.length));
    assertThat(LtxTrailer.decode(vecB, vecB.length - 16)).isEqualTo(t);
  }
}
