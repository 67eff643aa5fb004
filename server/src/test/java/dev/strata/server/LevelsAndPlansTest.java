package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.server.compaction.SnapshotPlan;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Level validation (litefs-backup's TestStore_Open) and CalcSnapshotPlan (TestCalcSnapshotPlan). */
class LevelsAndPlansTest {
  static CompactionLevel lvl(int n, long seconds) {
    return new CompactionLevel(n, Duration.ofSeconds(seconds), Duration.ofHours(1));
  }

  static Levels levels(CompactionLevel... list) {
    return new Levels(List.of(list), Duration.ofDays(1), Duration.ofDays(30));
  }

  @Test
  void levelListRules() {
    assertThatThrownBy(() -> levels()).hasMessage("at least one compaction level is required");
    assertThatThrownBy(() -> levels(lvl(5, 1))).hasMessage("compaction level number out of order: 5, expected 0");
    CompactionLevel[] ten = new CompactionLevel[10];
    for (int i = 0; i < 10; i++) ten[i] = lvl(i, i == 0 ? 0 : 1);
    assertThatThrownBy(() -> levels(ten)).hasMessage("compaction level cannot exceed 8");
    assertThatThrownBy(() -> levels(lvl(0, 1))).hasMessage("cannot set interval on compaction level zero");
    assertThatThrownBy(() -> levels(lvl(0, 0), lvl(1, 0))).hasMessage("interval required for level 1");
    Levels d = Levels.defaults();
    assertThat(d.maxLevel()).isEqualTo(3);
    assertThat(d.next(1)).isEqualTo(2);
    assertThat(d.next(3)).isEqualTo(Levels.SNAPSHOT);
    assertThat(d.next(Levels.SNAPSHOT)).isEqualTo(-1);
    assertThat(d.interval(1)).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.retention(Levels.SNAPSHOT)).isEqualTo(Duration.ofDays(30));
  }

  static LtxFileMeta f(int level, long min, long max) {
    return LtxFileMeta.bare(level, new TxidRange(min, max), 100, Instant.EPOCH);
  }

  @Test
  void planFromEveryLevel() {
    Map<Integer, List<LtxFileMeta>> levels = Map.of(
        9, List.of(f(9, 1, 50), f(9, 1, 80)),
        3, List.of(f(3, 1, 80), f(3, 81, 87), f(3, 88, 89)),
        2, List.of(f(2, 85, 89)),
        1, List.of(f(1, 90, 94), f(1, 95, 97)),
        0, List.of(f(0, 98, 99), f(0, 100, 100), f(0, 101, 101)));
    SnapshotPlan plan = SnapshotPlan.calc(levels, 100);
    assertThat(plan.files()).extracting(x -> x.level() + ":" + x.range()).containsExactly(
        "9:0000000000000001-0000000000000050", "3:0000000000000051-0000000000000057",
        "3:0000000000000058-0000000000000059", "1:000000000000005a-000000000000005e",
        "1:000000000000005f-0000000000000061", "0:0000000000000062-0000000000000063",
        "0:0000000000000064-0000000000000064");
    assertThat(plan.endsAt(100)).isTrue();
  }

  @Test
  void planWithoutSnapshotAndItsErrors() {
    SnapshotPlan plan = SnapshotPlan.calc(Map.of(1, List.of(f(1, 1, 5), f(1, 6, 9))), 7);
    assertThat(plan.maxTxid()).isEqualTo(5);
    assertThat(plan.endsAt(7)).isFalse();
    assertThatThrownBy(() -> SnapshotPlan.calc(Map.of(1, List.of(f(1, 1, 10), f(1, 12, 13))), 20))
        .hasMessage("non-contiguous transaction files: 000000000000000a -> 000000000000000c-000000000000000d");
    assertThatThrownBy(() -> SnapshotPlan.calc(Map.of(1, List.of(f(1, 1, 6))), 5))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ENOTXID));
  }

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
