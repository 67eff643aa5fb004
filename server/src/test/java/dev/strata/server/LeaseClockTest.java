package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.server.compaction.JobLeases;
import dev.strata.server.store.Lease;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.PostgresMetadataStore;
import dev.strata.server.store.SqliteMetadataStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lease expiry is judged on one clock: PostgreSQL's, whatever the clocks of the instances sharing it say. Each
 * {@link JobLeases} here stands for an instance; a skewed one is given a clock an hour off.
 */
class LeaseClockTest {
  private static final Duration HOUR = Duration.ofHours(1);
  @TempDir Path dir;

  private static InstantSource skewed(Duration by) {
    return InstantSource.offset(InstantSource.system(), by);
  }

  @Test
  void onPostgresAnInstanceWhoseClockIsAheadCannotTakeAHeldLease() throws Exception {
    try (MetadataStore store = PostgresMetadataStore.open(TestMetadata.freshDatabase())) {
      JobLeases holder = new JobLeases(store), ahead = new JobLeases(store, skewed(HOUR));
      try (JobLeases.Held held = holder.tryAcquire("c", "app")) {
        assertThat(held).isNotNull();
        assertThat(ahead.tryAcquire("c", "app")).as("an hour ahead, the lease would look expired").isNull();
      }
      try (JobLeases.Held taken = ahead.tryAcquire("c", "app")) {
        assertThat(taken).as("released, it is free whatever the clock").isNotNull();
      }
    }
  }

  @Test
  void onPostgresAnInstanceWhoseClockIsBehindHoldsNoLongerThanTheLease() throws Exception {
    try (MetadataStore store = PostgresMetadataStore.open(TestMetadata.freshDatabase())) {
      JobLeases behind = new JobLeases(store, skewed(HOUR.negated())), other = new JobLeases(store);
      try (JobLeases.Held held = behind.tryAcquire("c", "app")) {
        Thread.sleep(JobLeases.TTL.toMillis() / 4 + 500); // past one renewal
        assertThat(other.tryAcquire("c", "app")).as("renewed, on the server's clock").isNull();
      }
      // A dead instance whose clock stood at 1970 took a lease for a second: it expires a second later all the same.
      store.write(c -> Lease.acquire(c, "c", "dead", "dead-instance", 0, 1000));
      assertThat(other.tryAcquire("c", "dead")).isNull();
      Thread.sleep(1100);
      try (JobLeases.Held taken = other.tryAcquire("c", "dead")) {
        assertThat(taken).isNotNull();
      }
    }
  }

  @Test
  void theEmbeddedStoreKeepsItsOneInstancesClock() throws Exception {
    // The control for the tests above: the skewed clock does reach the lease, where the store has no clock to share.
    try (MetadataStore store = SqliteMetadataStore.open(dir.resolve("server.db"))) {
      JobLeases holder = new JobLeases(store), ahead = new JobLeases(store, skewed(HOUR));
      try (JobLeases.Held held = holder.tryAcquire("c", "app"); JobLeases.Held taken = ahead.tryAcquire("c", "app")) {
        assertThat(held).isNotNull();
        assertThat(taken).isNotNull();
        assertThat(taken.lease().epoch()).isEqualTo(held.lease().epoch() + 1);
      }
    }
  }
}
