package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Name validation and the Go shapes of litefs-backup's answers. */
class NamesAndGoShapesTest {
  @Test
  void namesAndGoShapes() {
    assertThat(Names.checkDatabase("my-db_1.sqlite")).isEqualTo("my-db_1.sqlite");
    assertThatThrownBy(() -> Names.checkDatabase("foo bar")).isInstanceOfSatisfying(ApiException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.EBADDB));
    assertThat(Names.goQuote("a\"b\\c\n\u0001")).isEqualTo("\"a\\\"b\\\\c\\n\\x01\"");
    assertThat(GoJson.time(Instant.parse("2023-06-15T14:00:00Z"))).isEqualTo("2023-06-15T14:00:00Z");
    assertThat(GoJson.time(Instant.parse("2023-06-15T14:00:00.120Z"))).isEqualTo("2023-06-15T14:00:00.12Z");
    assertThat(new String(GoJson.indented(Map.of()))).isEqualTo("{}");
    assertThat(new String(GoJson.indented(Map.of("a", List.of())))).isEqualTo("{\n  \"a\": []\n}");
    assertThat(new String(GoJson.compactLine(Map.of("error", "<&>")))).isEqualTo("{\"error\":\"\\u003c\\u0026\\u003e\"}\n");
    assertThat(ServerConfig.parseBind(":2200").getPort()).isEqualTo(2200);
    assertThat(ServerConfig.parseBind("[::1]:80").getAddress().isLoopbackAddress()).isTrue();
    assertThat(GoDuration.format(Duration.ofDays(30))).isEqualTo("720h0m0s");
  }
}
