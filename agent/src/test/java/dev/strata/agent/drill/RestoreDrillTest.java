package dev.strata.agent.drill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.testing.Sqlite;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.restore.IntegrityCheck;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A drill of a healthy replica passes and equals the database; one of a replica with a planted corruption fails. */
class RestoreDrillTest {
  @TempDir Path dir;

  @Test
  void verifyIntervalRunsDrillsOnASchedule() throws Exception {
    Path db = dir.resolve("app.db");
    Sqlite.create(db);
    DatabaseSpec spec = DatabaseSpec.of(db, List.of(new ReplicaSpec("r", dir.resolve("r").toString())))
        .withSyncInterval(Duration.ofMillis(100)).withVerifyInterval(Duration.ofMillis(300));
    try (DatabaseMonitor m = DatabaseMonitor.open(spec, ReplicaUpkeep.Factory.NONE)) {
      m.start();
      Sqlite.cli(db, "INSERT INTO t(v) VALUES ('x')");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> m.lastGoodDrills().containsKey("r") && m.lastGoodDrills().get("r").txid() >= 2);
      assertThat(dev.strata.agent.control.ControlServer.answer(m, "status")).contains("drill r ok ");
      m.stop();
    }
  }

  @Test
  void aDrillPassesThenCatchesAPlantedCorruption() throws Exception {
    Path db = dir.resolve("app.db");
    Sqlite.create(db);
    Path replica = dir.resolve("r");
    DatabaseSpec spec = DatabaseSpec.of(db, List.of(new ReplicaSpec("r", replica.toString())))
        .withSyncInterval(Duration.ofMillis(100));
    try (DatabaseMonitor m = DatabaseMonitor.open(spec, ReplicaUpkeep.Factory.NONE)) {
      m.start();
      for (int i = 0; i < 20; i++) {
        Sqlite.cli(db, "INSERT INTO t(v) VALUES (hex(randomblob(2000)))");
      }
      long txid = m.awaitDurable(0, Duration.ofSeconds(30));

      List<RestoreDrill.Result> ok = m.drill(IntegrityCheck.FULL);
      assertThat(ok).hasSize(1);
      assertThat(ok.getFirst().ok()).as(ok.getFirst().error()).isTrue();
      assertThat(ok.getFirst().txid()).isEqualTo(txid);
      assertThat(m.checksumAt(txid)).as("compared with the database's checksum at that TXID").isNotZero();

      Path victim;
      try (Stream<Path> s = Files.list(replica.resolve("0"))) {
        victim = s.filter(p -> p.toString().endsWith(".ltx")).sorted().toList().getLast();
      }
      try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
        f.seek(f.length() / 2);
        int b = f.read();
        f.seek(f.length() / 2);
        f.write(b ^ 0x5a);
      }
      List<RestoreDrill.Result> bad = m.drill(IntegrityCheck.QUICK);
      assertThat(bad.getFirst().ok()).isFalse();
      assertThat(bad.getFirst().replica()).isEqualTo("r");
      assertThat(bad.getFirst().error()).contains(victim.getFileName().toString());
      try (Stream<Path> s = Files.list(spec.meta().resolve("drill"))) {
        assertThat(s.toList()).as("scratch space cleaned").isEmpty();
      }
      m.stop();
    }
  }
}
