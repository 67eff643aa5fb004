package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class LtxCompactorTest {
  @Test
  void reproducesVecADFromVecAAndVecD() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxFileInfo info = LtxCompactor.lz4().compact(List.of(
        new ByteArrayInputStream(Golden.bytes("vecA.ltx")), new ByteArrayInputStream(Golden.bytes("vecD.ltx"))), out);
    assertThat(Checksum.format(info.trailer().fileChecksum())).isEqualTo("8172dbf85c1b2e28");
    assertThat(LtxDecoder.verify(new ByteArrayInputStream(out.toByteArray())).trailer())
        .isEqualTo(info.trailer());
  }
}
