package dev.strata.agent.drill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.testing.Sqlite;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

  /**
   * A replica of each kind: a directory, S3 (S3Proxy storing its objects under {@code s3/}) and SFTP. {@code
   * storage} is where the replica's files land on this machine, to plant a corruption in one of them.
   */
  record Backend(String url, Path storage, AutoCloseable server) implements AutoCloseable {
    @Override
    public void close() throws Exception {
      if (server != null) server.close();
    }
  }

  Backend backend(String type) throws Exception {
    return switch (type) {
      case "file" -> new Backend(dir.resolve("r").toString(), dir.resolve("r"), null);
      case "s3" -> {
        S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3"));
        yield new Backend(s3.url("app"), dir.resolve("s3").resolve(S3ProxyServer.BUCKET).resolve("app"), s3);
      }
      case "sftp" -> {
        SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"));
        yield new Backend(sftp.url("/backups/app"), dir.resolve("sftp").resolve("backups").resolve("app"), sftp);
      }
      default -> throw new IllegalArgumentException(type);
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"file", "s3", "sftp"})
  void aDrillPassesThenCatchesAPlantedCorruption(String type) throws Exception {
    Path db = dir.resolve("app.db");
    Sqlite.create(db);
    try (Backend backend = backend(type)) {
      DatabaseSpec spec = DatabaseSpec.of(db, List.of(new ReplicaSpec("r", backend.url())))
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

        // flips a byte in the stored object behind the client's back (S3Proxy's directory, the SFTP server's root)
        Path victim;
        try (Stream<Path> s = Files.list(backend.storage().resolve("0"))) {
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
}
