package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.level.LevelSchedule;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.FaultProxy;
import dev.strata.replica.testing.LtxChain;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import dev.strata.replica.testing.SyntheticDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction, retention and restore against S3 (S3Proxy in this JVM) and SFTP (MINA SSHD): listings without header
 * fields, downloads in parallel, a connection reset in the middle of a download.
 */
class RemoteRestoreTest {
  @TempDir Path dir;

  private static final RestoreExecutor.Options NO_CHECK =
      new RestoreExecutor.Options(4, IntegrityCheck.NONE, false, RestoreProgress.silent());

  /** Two hours of writes every 30 s with the compactor running; returns checksums and images by TXID. */
  private static void writeHours(ReplicaClient replica, Path temp, FakeClock clock, TreeMap<Long, Long> checksums,
      Map<Long, byte[]> images, int hours) throws Exception {
    LtxChain chain = new LtxChain(replica, clock, temp);
    SyntheticDatabase db = new SyntheticDatabase(chain, 1024, 40, 11);
    LevelSchedule compactor = new LevelSchedule(replica, LevelConfig.defaults(), clock, temp);
    compactor.noteWritten(db.snapshot(0));
    checksums.put(chain.txid(), chain.checksum());
    images.put(chain.txid(), db.image());
    Instant end = clock.instant().plus(Duration.ofHours(hours));
    while (clock.instant().isBefore(end)) {
      clock.advance(Duration.ofSeconds(10));
      if (clock.instant().getEpochSecond() % 30 < 10) {
        compactor.noteWritten(db.change(0, 1, 3));
        checksums.put(chain.txid(), chain.checksum());
        images.put(chain.txid(), db.image());
      }
      if (!clock.instant().isBefore(compactor.nextDue())) compactor.runDue();
    }
  }

  @Test
  void compactsAndRestoresOnS3() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start(); ReplicaClient replica = ReplicaUrl.open(s3.url("db"))) {
      FakeClock clock = new FakeClock(Instant.parse("2026-06-01T10:00:03Z"));
      TreeMap<Long, Long> checksums = new TreeMap<>();
      Map<Long, byte[]> images = new HashMap<>();
      writeHours(replica, dir, clock, checksums, images, 2);
      ReplicaFiles files = ReplicaFiles.list(replica);
      assertThat(files.level(0).size()).isLessThan(15); // compacted, then removed 5 minutes later
      assertThat(files.level(2)).isNotEmpty();
      assertThat(files.level(3)).isNotEmpty();
      assertThat(files.all()).noneMatch(LtxFileMeta::hasHeader); // S3 listings carry no header fields

      // A restart learns from bare listings and recompacts nothing.
      CountingReplicaClient counting = new CountingReplicaClient(replica);
      LevelSchedule restarted = new LevelSchedule(counting, LevelConfig.defaults(), clock, dir);
      clock.advance(Duration.ofSeconds(10));
      restarted.runDue();
      assertThat(counting.writes.get()).isZero();

      // Every restore point plans and restores to the writer's state; timestamps come from HEAD requests.
      RestorePlanner planner = new RestorePlanner(counting);
      int restored = 0;
      for (RestorePoint p : planner.restorePoints()) {
        assertThat(checksums).containsKey(p.txid());
        if (restored++ % 7 != 0 && p.txid() != files.maxTxid()) continue;
        Path out = dir.resolve("s3-" + Txid.format(p.txid()) + ".db");
        RestoreResult r = new RestoreExecutor(counting, NO_CHECK).restore(planner.toTxid(p.txid()), out);
        assertThat(r.checksum()).isEqualTo(checksums.get(p.txid()));
        assertThat(Files.readAllBytes(out)).isEqualTo(images.get(p.txid()));
      }
      RestorePlan at = planner.toTimestamp(Instant.parse("2026-06-01T11:07:00Z"));
      assertThat(at.targetTxid()).isEqualTo(checksums.floorKey(at.targetTxid()));
      assertThat(counting.heads.get()).isPositive();

      // The requests of one restore: one listing of all levels, one GET per planned file.
      CountingReplicaClient one = new CountingReplicaClient(replica);
      RestorePlan latest = new RestorePlanner(one).latest();
      new RestoreExecutor(one, NO_CHECK).restore(latest, dir.resolve("latest.db"));
      assertThat(one.lists.get()).isEqualTo(1);
      assertThat(one.opens.get()).isEqualTo(latest.files().size());
      assertThat(one.writes.get() + one.deletes.get()).isZero();
    }
  }

  @Test
  void aConnectionResetMidDownloadResumes() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start(); FaultProxy proxy = FaultProxy.start(s3.port());
        ReplicaClient replica = ReplicaUrl.open(s3.url("db", proxy.port()))) {
      FakeClock clock = new FakeClock(Instant.parse("2026-06-01T10:00:03Z"));
      LtxChain chain = new LtxChain(replica, clock, dir);
      SyntheticDatabase db = new SyntheticDatabase(chain, 4096, 600, 12); // a 2.4 MB snapshot
      db.snapshot(0);
      for (int i = 0; i < 5; i++) db.change(0, 1, 20);
      RestorePlan plan = new RestorePlanner(replica).latest();
      AtomicBoolean cut = new AtomicBoolean();
      proxy.schedule((method, target, n) -> method.equals("GET") && target.contains("/9/") && cut.compareAndSet(false,
          true) ? FaultProxy.Fault.RESET_MID_RESPONSE : FaultProxy.Fault.NONE);
      Path out = dir.resolve("resumed.db");
      RestoreResult r = new RestoreExecutor(replica, NO_CHECK).restore(plan, out);
      assertThat(proxy.faults()).isEqualTo(1);
      assertThat(r.checksum()).isEqualTo(chain.checksum());
      assertThat(Files.readAllBytes(out)).isEqualTo(db.image());
    }
  }

  @Test
  void restoresFromSftp() throws Exception {
    try (SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"));
        ReplicaClient replica = ReplicaUrl.open(sftp.url("backups/db"))) {
      FakeClock clock = new FakeClock(Instant.parse("2026-06-01T10:00:03Z"));
      TreeMap<Long, Long> checksums = new TreeMap<>();
      Map<Long, byte[]> images = new HashMap<>();
      writeHours(replica, dir, clock, checksums, images, 1);
      RestorePlanner planner = new RestorePlanner(replica);
      RestorePlan latest = planner.latest();
      Path out = dir.resolve("sftp.db");
      RestoreResult r = new RestoreExecutor(replica, NO_CHECK).restore(latest, out);
      assertThat(r.checksum()).isEqualTo(checksums.lastEntry().getValue());
      assertThat(Files.readAllBytes(out)).isEqualTo(images.get(checksums.lastKey()));
    }
  }
}
