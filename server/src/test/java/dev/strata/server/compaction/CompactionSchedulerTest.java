package dev.strata.server.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.level.LevelConfig;
import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.SqlJob;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The scheduler outlives an unreachable metadata store: PostgreSQL down answers {@link ApiException} (503
 * EUNAVAILABLE), a runtime exception, and a level's loop that let it escape would stop that level's jobs on this
 * instance for good (seen in torture --server --instances 2 --metadata postgres: level 1 stopped after kill -9 of
 * PostgreSQL).
 */
class CompactionSchedulerTest {
  @Test
  void aLevelTickWithTheMetadataStoreDownFailsQuietlyAndIsRetried() {
    AtomicInteger calls = new AtomicInteger();
    MetadataStore down = new MetadataStore() {
      @Override
      public <T> T read(SqlJob<T> job) {
        calls.incrementAndGet();
        throw new ApiException(ErrorCode.EUNAVAILABLE, "metadata database unavailable: connection refused");
      }

      @Override
      public <T> CompletableFuture<T> submit(SqlJob<T> job) {
        calls.incrementAndGet();
        return CompletableFuture.failedFuture(new ApiException(ErrorCode.EUNAVAILABLE,
            "metadata database unavailable: connection refused"));
      }

      @Override
      public long commits() {
        return 0;
      }

      @Override
      public String describe() {
        return "down";
      }

      @Override
      public void close() {}
    };
    try (CompactionScheduler s = new CompactionScheduler(down, null, LevelConfig.defaults(), InstantSource.system(),
        2)) {
      assertThat(s.runLevel(1)).isZero();
      assertThat(s.runLevel(dev.strata.replica.level.Level.SNAPSHOT)).isZero();
      assertThat(s.runLevel(1)).isZero();
    }
    assertThat(calls.get()).isEqualTo(3);
  }
}
