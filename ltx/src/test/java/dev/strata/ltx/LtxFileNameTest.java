package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** LTX file names (spec §1.8), ported from superfly/ltx v0.3.14 and litefs-backup. */
class LtxFileNameTest {
  @Test
  void TestParseFilename_OK() {
    assertThat(LtxFileName.parse("0000000000000001-00000000000003e8.ltx")).isEqualTo(new TxidRange(1, 1000));
    assertThat(LtxFileName.parse("00000000000003e8-00000000000007d0.ltx")).isEqualTo(new TxidRange(1000, 2000));
  }

  @Test
  void TestParseFilename_ErrInvalid() {
    assertThat(LtxFileName.parse("000000000000000z-00000000000003e8.ltx")).isNull();
    assertThat(LtxFileName.parse("0000000000000001.ltx")).isNull();
    assertThat(LtxFileName.parse("000000000000000z-00000000000003e8.zzz")).isNull();
    assertThat(LtxFileName.parse("0000000000000001-00000000000003e8.xyz")).isNull();
    assertThat(LtxFileName.parse("0000000000000001-00000000000003E8.ltx")).as("lower case only").isNull();
    assertThat(LtxFileName.parse("x0000000000000001-00000000000003e8.ltx")).isNull();
  }

  @Test
  void formatsRanges() {
    assertThat(LtxFileName.format(1, 1000)).isEqualTo("0000000000000001-00000000000003e8.ltx");
    assertThat(new TxidRange(1, 1000).fileName()).isEqualTo("0000000000000001-00000000000003e8.ltx");
    assertThat(new TxidRange(1, 1000)).hasToString("0000000000000001-00000000000003e8");
  }

  @Test
  void lexicalOrderIsTxidOrder() {
    List<TxidRange> ranges = new ArrayList<>(List.of(new TxidRange(-1, -1), new TxidRange(16, 17),
        new TxidRange(2, 15), new TxidRange(1, 1), new TxidRange(2, 3)));
    List<String> names = new ArrayList<>(ranges.stream().map(TxidRange::fileName).toList());
    java.util.Collections.sort(ranges);
    java.util.Collections.sort(names);
    assertThat(ranges.stream().map(TxidRange::fileName).toList()).isEqualTo(names);
    assertThat(ranges.getLast()).as("unsigned order").isEqualTo(new TxidRange(-1, -1));
  }
}
