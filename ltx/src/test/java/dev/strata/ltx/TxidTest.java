package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** TXID text and JSON forms (spec §1.8), ported from superfly/ltx v0.3.14. */
class TxidTest {
  @Test
  void TestTXID_String() {
    assertThat(Txid.format(0)).isEqualTo("0000000000000000");
    assertThat(Txid.format(1000)).isEqualTo("00000000000003e8");
    assertThat(Txid.format(-1)).isEqualTo("ffffffffffffffff");
  }

  @Test
  void TestParseTXID_OK() {
    assertThat(Txid.parse("0000000000000000")).isZero();
    assertThat(Txid.parse("00000000000003e8")).isEqualTo(1000);
    assertThat(Txid.parse("ffffffffffffffff")).isEqualTo(-1);
  }

  @Test
  void TestParseTXID_ErrTooShort() {
    assertThatThrownBy(() -> Txid.parse("000000000e38"))
        .hasMessage("invalid formatted transaction id length: \"000000000e38\"");
  }

  @Test
  void TestParseTXID_ErrTooLong() {
    assertThatThrownBy(() -> Txid.parse("ffffffffffffffff0"))
        .hasMessage("invalid formatted transaction id length: \"ffffffffffffffff0\"");
  }

  @Test
  void TestParseTXID_ErrInvalidFormat() {
    assertThatThrownBy(() -> Txid.parse("xxxxxxxxxxxxxxxx"))
        .hasMessage("invalid transaction id format: \"xxxxxxxxxxxxxxxx\"");
    assertThatThrownBy(() -> Txid.parse("-00000000000003e")).hasMessage("invalid transaction id format: \"-00000000000003e\"");
    assertThatThrownBy(() -> Txid.parse(null)).hasMessage("invalid formatted transaction id length: null");
  }

  @Test
  void TestTXID_MarshalJSON_OK() {
    assertThat(Txid.toJson(1000)).isEqualTo("\"00000000000003e8\"");
  }

  @Test
  void TestTXID_UnmarshalJSON_OK() {
    assertThat(Txid.parseJson("\"00000000000003e8\"")).isEqualTo(1000);
    assertThat(Txid.parseJson(" \"00000000000003e8\" ")).isEqualTo(1000);
  }

  @Test
  void TestTXID_UnmarshalJSON_Null() {
    assertThat(Txid.parseJson("null")).isZero();
  }

  @Test
  void TestTXID_UnmarshalJSON_ErrInvalidType() {
    assertThatThrownBy(() -> Txid.parseJson("123")).hasMessage("cannot unmarshal TXID from JSON value");
    assertThatThrownBy(() -> Txid.parseJson("{}")).hasMessage("cannot unmarshal TXID from JSON value");
  }

  @Test
  void TestTXID_UnmarshalJSON_ErrStringFormat() {
    assertThatThrownBy(() -> Txid.parseJson("\"xyz\"")).hasMessage("cannot parse TXID from JSON string: \"xyz\"");
  }
}
