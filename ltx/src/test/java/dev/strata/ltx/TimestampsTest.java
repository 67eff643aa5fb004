package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** RFC3339Milli timestamps (spec §1.8), ported from superfly/ltx v0.3.14. */
class TimestampsTest {
  /** Go's {@code time.Date(2000, 10, 20, 30, 40, 50, nanos, UTC)}: day 20, hour 30 normalizes to the 21st, 06:. */
  private static Instant goDate(int nanos) {
    return LocalDateTime.of(2000, 10, 20, 0, 40, 50, nanos).plusHours(30).toInstant(ZoneOffset.UTC);
  }

  @ParameterizedTest
  @CsvSource({
    "0, 2000-10-21T06:40:50.000Z",
    "123000000, 2000-10-21T06:40:50.123Z",
    "120000000, 2000-10-21T06:40:50.120Z",
    "100000000, 2000-10-21T06:40:50.100Z",
    "100000, 2000-10-21T06:40:50.000Z", // sub-millisecond is truncated
  })
  void TestFormatTimestamp(int nanos, String want) {
    assertThat(Timestamps.format(goDate(nanos))).isEqualTo(want);
  }

  @ParameterizedTest
  @CsvSource({
    "2000-10-21T06:40:50.000Z, 0",
    "2000-10-21T06:40:50.123Z, 123000000",
    "2000-10-21T06:40:50.120Z, 120000000",
    "2000-10-21T06:40:50.100Z, 100000000",
    "2000-10-21T06:40:50Z, 0",
    "2000-10-21T06:40:50.000123Z, 0",
    "2000-10-21T06:40:50.000000123Z, 0",
  })
  void TestParseTimestamp(String text, int nanos) {
    assertThat(Timestamps.parse(text)).isEqualTo(goDate(nanos));
  }

  @Test
  void formatsEpochMillisAsLtxHeadersStoreThem() {
    assertThat(Timestamps.format(1686837600000L)).isEqualTo("2023-06-15T14:00:00.000Z");
    assertThat(Timestamps.format(0)).isEqualTo("1970-01-01T00:00:00.000Z");
  }

  @Test
  void parsesOffsetsIntoUtc() {
    assertThat(Timestamps.parse("2000-10-21T08:40:50.5+02:00")).isEqualTo(goDate(500000000));
  }

  @Test
  void rejectsOtherText() {
    assertThatThrownBy(() -> Timestamps.parse("yesterday")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"yesterday\"");
  }
}
