package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Positions: text form, Go's JSON shape (spec §1.8). */
class PosTest {
  @Test
  void TestNewPos() {
    Pos pos = new Pos(1000, 2000);
    assertThat(pos.txid()).isEqualTo(1000);
    assertThat(pos.postApplyChecksum()).isEqualTo(2000);
  }

  @Test
  void TestPos_String() {
    assertThat(new Pos(1000, 2000)).hasToString("00000000000003e8/00000000000007d0");
  }

  @Test
  void TestParsePos_OK() {
    assertThat(Pos.parse("00000000000003e8/00000000000007d0")).isEqualTo(new Pos(1000, 2000));
  }

  @Test
  void TestParsePos_ErrTooShort() {
    assertThatThrownBy(() -> Pos.parse("00000000000003e8"))
        .hasMessage("invalid formatted position length: \"00000000000003e8\"");
    assertThatThrownBy(() -> Pos.parse("00000000000003e8-00000000000007d0"))
        .hasMessage("invalid formatted position: \"00000000000003e8-00000000000007d0\"");
  }

  @Test
  void isZeroOnlyForTheZeroPosition() {
    assertThat(Pos.ZERO.isZero()).isTrue();
    assertThat(new Pos(0, 1).isZero()).isFalse();
    assertThat(new Pos(1, 0).isZero()).isFalse();
  }

  @Test
  void jsonHasGosKeys() {
    assertThat(new Pos(1000, 0xeb1a999231044dddL).toJson())
        .isEqualTo("{\"TXID\":\"00000000000003e8\",\"PostApplyChecksum\":\"eb1a999231044ddd\"}");
  }

  @Test
  void jsonRoundTrips() {
    Pos p = new Pos(-1, Checksum.FLAG | 77);
    assertThat(Pos.parseJson(p.toJson())).isEqualTo(p);
  }

  @Test
  void jsonKeysMatchCaseInsensitivelyAndNullReadsAsZero() {
    assertThat(Pos.parseJson("{ \"txid\" : \"00000000000003e8\", \"postApplyChecksum\": null }"))
        .isEqualTo(new Pos(1000, 0));
    assertThat(Pos.parseJson("{\"TXID\":null,\"PostApplyChecksum\":null}")).isEqualTo(Pos.ZERO);
    assertThat(Pos.parseJson("{}")).isEqualTo(Pos.ZERO);
  }

  @Test
  void jsonValuesMustBeStrings() {
    assertThatThrownBy(() -> Pos.parseJson("{\"TXID\":1000}")).hasMessage("cannot unmarshal TXID from JSON value");
    assertThatThrownBy(() -> Pos.parseJson("{\"PostApplyChecksum\":true}"))
        .hasMessage("cannot unmarshal checksum from JSON value");
    assertThatThrownBy(() -> Pos.parseJson("{\"TXID\":\"xyz\"}"))
        .hasMessage("cannot parse TXID from JSON string: \"xyz\"");
  }
}
