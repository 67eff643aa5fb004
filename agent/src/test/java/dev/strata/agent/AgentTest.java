package dev.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

  /** Agent.validate's one-line refusal of a database replicated to {@code replica}. */
  private String refusal(Path db, String replica) {
    DatabaseSpec spec = DatabaseSpec.of(db, List.of(new ReplicaSpec("file", replica)));
    return assertThatThrownBy(() -> Agent.validate(List.of(spec), List.of()))
        .isInstanceOf(IllegalArgumentException.class).actual().getMessage();
  }

  @Test
  void aReplicaThatOverlapsItsDatabaseIsRefusedBeforeAnythingStarts() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Path db = data.resolve("app.db");
    Sqlite.create(db);
    Path meta = data.resolve(".app.db-strata");
    String prefix = "app.db: replica file (";
    assertThat(refusal(db, db.toString())).isEqualTo(prefix + db + ") is the database file itself; give the "
        + "replica a directory of its own");
    assertThat(refusal(db, "file://" + db)).startsWith(prefix + db + ") is the database file itself");
    assertThat(refusal(db, db + "-wal")).startsWith(prefix + db + "-wal) is the database's -wal file");
    assertThat(refusal(db, db + "-shm")).startsWith(prefix + db + "-shm) is the database's -shm file");
    assertThat(refusal(db, meta.resolve("backup").toString()))
        .startsWith(prefix + meta.resolve("backup") + ") is inside the database's meta directory " + meta);
    assertThat(refusal(db, meta.toString())).contains("is inside the database's meta directory");
    assertThat(refusal(db, data.toString())).startsWith(prefix + data + ") contains the database");
    assertThat(refusal(db, dir.toString())).contains("contains the database");
    // Another name for the same place is the same place.
    Path link = Files.createSymbolicLink(dir.resolve("link"), data);
    assertThat(refusal(db, link.resolve("app.db").toString())).contains("is the database file itself");
    assertThat(refusal(db, link.resolve("x/../app.db").toString())).contains("is the database file itself");
    assertThat(meta).doesNotExist();

    // Next to the database, or a sibling directory whose name starts alike, is fine.
    for (String ok : List.of(data.resolve("app.db-backup").toString(), dir.resolve("r").toString())) {
      Agent.validate(List.of(DatabaseSpec.of(db, List.of(new ReplicaSpec("file", ok)))), List.of());
    }
  }

  @Test
  void aDirectoryEntryWhoseReplicaHoldsItsDatabasesIsRefused() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Sqlite.create(data.resolve("one.db"));
    for (Path replica : List.of(data, dir)) {
      var spec = new DirectorySpec(data, "*.db", false, null, List.of(new ReplicaSpec("r", replica.toString())),
          Duration.ofMillis(100), CaptureOptions.defaults(), LevelConfig.defaults(), Duration.ofSeconds(1),
          Duration.ofSeconds(10));
      assertThatThrownBy(() -> Agent.validate(List.of(), List.of(spec))).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("directory " + data + ": replica r (" + replica + ") contains the databases; give the "
              + "replicas a directory of their own");
    }
    // A database found later is checked when it is opened: here its replica lands in its meta directory.
    var spec = new DirectorySpec(data, "*.db", false, null,
        List.of(new ReplicaSpec("r", data.resolve(".one.db-strata").toString())), Duration.ofMillis(100),
        CaptureOptions.defaults(), LevelConfig.defaults(), Duration.ofSeconds(1), Duration.ofSeconds(10));
    Agent.validate(List.of(), List.of(spec));
    assertThatThrownBy(() -> DatabaseMonitor.open(spec.specFor(data.resolve("one.db")), ReplicaUpkeep.Factory.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is inside the database's meta directory");
  }

  @Test
  void aReplicaSharedByTwoDatabasesOrListedTwiceIsRefused() throws Exception {
    Path a = dir.resolve("a.db"), b = dir.resolve("b.db");
    Sqlite.create(a);
    Sqlite.create(b);
    Path shared = dir.resolve("r");
    Files.createDirectories(dir.resolve("elsewhere"));
    Path link = Files.createSymbolicLink(dir.resolve("elsewhere/link"), dir);
    var first = DatabaseSpec.of(a, List.of(new ReplicaSpec("file", shared.toString())));
    var second = DatabaseSpec.of(b, List.of(new ReplicaSpec("file", link.resolve("r").toString())));
    assertThatThrownBy(() -> Agent.validate(List.of(first, second), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("b.db: replica file (" + dir.toRealPath().resolve("r") + ") is where replica file of a.db is; "
            + "each replica needs a place of its own");
    var twice = DatabaseSpec.of(a, List.of(new ReplicaSpec("one", shared.toString()),
        new ReplicaSpec("two", "file://" + shared)));
    assertThatThrownBy(() -> Agent.validate(List.of(twice), List.of()))
        .hasMessage("a.db: replica two (" + dir.toRealPath().resolve("r") + ") is where replica one of a.db is; each "
            + "replica needs a place of its own");
  }
}
