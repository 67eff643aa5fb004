package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import dev.strata.replica.testing.SyntheticDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica that was never compacted: a plan of hundreds of files is merged in groups, with bounded open files. */
class LongPlanTest {
  @TempDir Path dir;

  @Test
  void restoresAPlanLongerThanWhatIsMergedAtOnce() throws Exception {
    FileReplicaClient replica = new FileReplicaClient(dir.resolve("replica"));
    LtxChain chain = new LtxChain(replica, new FakeClock(Instant.parse("2026-02-01T00:00:00Z")), dir);
    SyntheticDatabase db = new SyntheticDatabase(chain, 512, 40, 5);
    db.snapshot(0);
    for (int i = 0; i < 3 * RestoreExecutor.MAX_MERGED + 7; i++) db.change(0, 1, 3);
    RestorePlan plan = new RestorePlanner(replica).latest();
    assertThat(plan.files()).hasSize(3 * RestoreExecutor.MAX_MERGED + 8);
    for (var client : new dev.strata.replica.ReplicaClient[] {replica, new CountingReplicaClient(replica)}) {
      Path out = dir.resolve("out-" + System.nanoTime() + ".db");
      RestoreResult r = new RestoreExecutor(client, new RestoreExecutor.Options(4, IntegrityCheck.NONE, false,
          RestoreProgress.silent())).restore(plan, out);
      assertThat(r.checksum()).isEqualTo(chain.checksum());
      assertThat(Files.readAllBytes(out)).isEqualTo(db.image());
    }
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".restore-"));
    }
  }
}
