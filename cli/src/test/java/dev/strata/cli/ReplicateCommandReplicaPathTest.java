package dev.strata.cli;

import static dev.strata.cli.ReplicateCommandTest.run;
import static dev.strata.cli.ReplicateCommandTest.sqlite;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.strata.cli.ReplicateCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica directory that is, holds or lies inside what it backs up is refused at start, in one line. */
class ReplicateCommandReplicaPathTest {
  @TempDir Path dir;
  Path db;

  @BeforeEach
  void createDatabase() throws Exception {
    db = dir.resolve("app.db");
    sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);");
  }

  /** Refused at once: one line, non-zero exit, and no meta directory or replica left behind. */
  private void assertRefused(String message, String... args) throws Exception {
    Result r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> run(args)); // not a loop of warnings
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).startsWith("strata: ").contains(message).doesNotContain("\n")
        .doesNotContain("Exception");
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith("-strata") || n.equals("0"));
    }
  }

  @Test
  void theDatabaseItselfItsWalOrItsDirectoryIsRefused() throws Exception {
    assertRefused("is the database file itself", "replicate", db.toString(), db.toString());
    assertRefused("is the database file itself", "replicate", db.toString(), "file://" + db);
    assertRefused("is the database's -wal file", "replicate", db.toString(), db + "-wal");
    assertRefused("is the database's -shm file", "replicate", db.toString(), db + "-shm");
    assertRefused("contains the database", "replicate", db.toString(), dir.toString());
    assertRefused("is inside the database's meta directory", "replicate", db.toString(),
        dir.resolve(".app.db-strata/backups").toString());
  }

  @Test
  void soInAConfigFile() throws Exception {
    Path yml = dir.resolve("strata.yml");
    Files.writeString(yml, """
        dbs:
          - path: %s
            replicas:
              - path: %s
        """.formatted(db, db));
    assertRefused("app.db: replica file (" + db + ") is the database file itself", "replicate", "-config",
        yml.toString());
    Files.writeString(yml, """
        dbs:
          - dir: %s
            pattern: "*.db"
            replica:
              url: file://%s
        """.formatted(dir, dir));
    assertRefused("contains the databases", "replicate", "-config", yml.toString());
  }
}
