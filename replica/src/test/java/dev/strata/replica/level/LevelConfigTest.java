package dev.strata.replica.level;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LevelConfigTest {
  @Test
  void defaultsAreDesignMds() {
    LevelConfig d = LevelConfig.defaults();
    assertThat(d.topLevel()).isEqualTo(3);
    assertThat(d.level(0)).isEqualTo(new Level(0, Duration.ZERO, Duration.ofMinutes(5)));
    assertThat(d.level(1)).isEqualTo(new Level(1, Duration.ofSeconds(10), Duration.ofHours(1)));
    assertThat(d.level(2)).isEqualTo(new Level(2, Duration.ofMinutes(5), Duration.ofDays(30)));
    assertThat(d.level(3)).isEqualTo(new Level(3, Duration.ofHours(1), Duration.ofDays(30)));
    assertThat(d.level(9)).isEqualTo(new Level(9, Duration.ofDays(1), Duration.ofDays(30)));
  }

  @Test
  void litestreamKeysMapOntoLevels() {
    LevelConfig c = LevelConfig.litestream(Duration.ofHours(72), Duration.ofHours(6));
    assertThat(c.snapshotInterval()).isEqualTo(Duration.ofHours(6));
    assertThat(c.snapshotRetention()).isEqualTo(Duration.ofHours(72));
    assertThat(c.level(2).retention()).isEqualTo(Duration.ofHours(72));
    assertThat(c.level(3).retention()).isEqualTo(Duration.ofHours(72));
    assertThat(c.level(1).retention()).isEqualTo(Duration.ofHours(1));
    assertThat(LevelConfig.litestream(null, null)).isEqualTo(LevelConfig.defaults());
  }

  @Test
  void rejectsWhatLitefsBackupRejects() {
    Duration d = Duration.ofMinutes(1);
    assertThatThrownBy(() -> new LevelConfig(List.of(new Level(0, Duration.ZERO, d)), d, d))
        .hasMessageContaining("at least level 0 and one compaction level");
    assertThatThrownBy(() -> new LevelConfig(List.of(new Level(0, Duration.ZERO, d), new Level(2, d, d)), d, d))
        .hasMessageContaining("out of order: 2, expected 1");
    assertThatThrownBy(() -> new Level(0, d, d)).hasMessageContaining("cannot set an interval on level 0");
    assertThatThrownBy(() -> new Level(1, Duration.ZERO, d)).hasMessageContaining("interval required");
    assertThatThrownBy(() -> new Level(10, d, d)).hasMessageContaining("invalid level");
    assertThatThrownBy(() -> new LevelConfig(List.of(new Level(0, Duration.ZERO, d), new Level(1, d, d)),
        Duration.ZERO, d)).hasMessageContaining("snapshot interval must be positive");
  }

  @Test
  void stepsRunAtWallClockMultiples() {
    Instant t = Instant.parse("2026-01-01T10:03:27.500Z");
    assertThat(LevelSchedule.boundaryAfter(t, Duration.ofSeconds(10))).isEqualTo("2026-01-01T10:03:30Z");
    assertThat(LevelSchedule.boundaryAfter(t, Duration.ofMinutes(5))).isEqualTo("2026-01-01T10:05:00Z");
    assertThat(LevelSchedule.boundaryAfter(t, Duration.ofDays(1))).isEqualTo("2026-01-02T00:00:00Z");
    assertThat(LevelSchedule.boundaryAfter(Instant.parse("2026-01-01T10:05:00Z"), Duration.ofMinutes(5)))
        .isEqualTo("2026-01-01T10:10:00Z");
  }
}
