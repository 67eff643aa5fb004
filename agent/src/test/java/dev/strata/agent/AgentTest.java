package dev.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.strata.agent.capture.CaptureOptions;
import dev.strata.agent.testing.Chain;
import dev.strata.agent.testing.Sqlite;
import dev.strata.replica.level.LevelConfig;
import dev.strata.agent.upload.ReplicaUpkeep;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentTest {
  @TempDir Path dir;

  @Test
  void aDirectoryEntryPicksUpNewDatabasesUnderTheirOwnReplicaPrefix() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Sqlite.create(data.resolve("one.db"));
    Files.writeString(data.resolve("notes.db"), "not a database, skipped".repeat(10));
    Sqlite.create(data.resolve("ignored.sqlite"));
    var spec = new DirectorySpec(data, "*.db", true, null, List.of(new ReplicaSpec("r", dir.resolve("r").toString())),
        Duration.ofMillis(100), CaptureOptions.defaults(), LevelConfig.defaults(), Duration.ofSeconds(1),
        Duration.ofSeconds(10));
    Agent.validate(List.of(), List.of(spec));
    try (Agent agent = new Agent(List.of(), List.of(spec), ReplicaUpkeep.Factory.NONE)) {
      agent.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> agent.monitors().size() == 1);
      Files.createDirectories(data.resolve("tenant"));
      Sqlite.create(data.resolve("tenant/two.db"));
      await().atMost(Duration.ofSeconds(20)).until(() -> agent.monitors().size() == 2);
      Sqlite.cli(data.resolve("tenant/two.db"), "INSERT INTO t(v) VALUES ('x')");
      await().atMost(Duration.ofSeconds(20))
          .until(() -> Files.isDirectory(dir.resolve("r/tenant/two.db/0")));
      agent.stop();
    }
    assertThat(Chain.of(dir.resolve("r/one.db")).maxTxid()).isEqualTo(1);
    assertThat(Chain.of(dir.resolve("r/tenant/two.db")).maxTxid()).isEqualTo(2);
    assertThat(dir.resolve("r/notes.db")).doesNotExist();
    assertThat(dir.resolve("r/ignored.sqlite")).doesNotExist();
  }
}
