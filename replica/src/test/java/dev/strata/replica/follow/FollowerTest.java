package dev.strata.replica.follow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.LtxChain;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Follower} on each backend, the source written by {@link LtxChain} from a real SQLite database: follows
 * level 0, costs one listing per idle poll, continues after a restart without restoring, and applies a new
 * snapshot (a continuity break) as a snapshot.
 */
class FollowerTest {
  @TempDir Path dir;

  @Test
  void followsAFileReplica() throws Exception {
    try (ReplicaClient replica = ReplicaUrl.open(dir.resolve("replica").toString())) {
      follow(replica);
    }
  }

  @Test
  void followsAnS3Replica() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start(); ReplicaClient replica = ReplicaUrl.open(s3.url("db"))) {
      follow(replica);
    }
  }

  @Test
  void followsAnSftpReplica() throws Exception {
    try (SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"));
        ReplicaClient replica = ReplicaUrl.open(sftp.url("backups/db"))) {
      follow(replica);
    }
  }

  private void follow(ReplicaClient backend) throws Exception {
    CountingReplicaClient replica = new CountingReplicaClient(backend);
    Path primary = dir.resolve("primary.db");
    Path out = dir.resolve("follower.db");
    JournaledDatabaseTest.sqlite(primary, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    LtxChain chain = new LtxChain(replica, Clock.systemUTC(), dir);
    chain.snapshotFile(primary);
    try (Follower f = new Follower(List.of(replica), out, Follower.Options.defaults())) {
      f.start();
      assertThat(f.txid()).isEqualTo(chain.txid());
      for (int i = 1; i <= 5; i++) {
        insert(primary, 50 * i);
        chain.incrementFile(primary, 1);
        assertThat(f.poll()).isTrue();
        assertThat(f.txid()).isEqualTo(chain.txid());
        assertThat(f.checksum()).isEqualTo(chain.checksum());
        assertThat(rows(out)).isEqualTo(rows(primary));
      }
      int before = replica.total();
      assertThat(f.poll()).isFalse();
      assertThat(replica.total() - before).as("requests of an idle poll").isEqualTo(1);
    }
    // a restart continues from the state file, without a restore (no snapshot read)
    insert(primary, 300);
    chain.incrementFile(primary, 2);
    int opensBefore = replica.opens.get();
    try (Follower f = new Follower(List.of(replica), out, Follower.Options.defaults())) {
      f.start();
      assertThat(replica.opens.get() - opensBefore).as("files read: only the new level-0 file").isEqualTo(1);
      assertThat(f.txid()).isEqualTo(chain.txid());
      assertThat(rows(out)).isEqualTo(rows(primary));

      // a continuity break: a new snapshot of a different database, then level 0 after it
      JournaledDatabaseTest.sqlite(primary, "DELETE FROM t WHERE id % 3 = 0; VACUUM;");
      chain.snapshotFile(primary, 5);
      insert(primary, 20);
      chain.incrementFile(primary, 1);
      assertThat(f.poll()).isTrue();
      assertThat(f.txid()).isEqualTo(chain.txid());
      assertThat(f.checksum()).isEqualTo(chain.checksum());
      assertThat(rows(out)).isEqualTo(rows(primary));
      assertThat(JournaledDatabaseTest.sqlite(out, "PRAGMA integrity_check")).isEqualTo("ok");
    }
    assertThat(dir.resolve("follower.db-strata-follow.scratch")).doesNotExist();
  }

  @Test
  void followsTheReplicaReachingFurthest() throws Exception {
    Path primary = dir.resolve("primary.db");
    Path out = dir.resolve("follower.db");
    JournaledDatabaseTest.sqlite(primary, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    try (ReplicaClient a = ReplicaUrl.open(dir.resolve("a").toString());
        ReplicaClient b = ReplicaUrl.open(dir.resolve("b").toString())) {
      LtxChain chain = new LtxChain(a, Clock.systemUTC(), dir);
      chain.snapshotFile(primary);
      copyTree(dir.resolve("a"), dir.resolve("b")); // b holds the snapshot only: it lags
      try (Follower f = new Follower(List.of(b, a), out, Follower.Options.defaults())) {
        f.start();
        for (int i = 1; i <= 3; i++) {
          insert(primary, 30);
          chain.incrementFile(primary, 1);
          assertThat(f.poll()).isTrue();
        }
        assertThat(f.txid()).isEqualTo(chain.txid());
        assertThat(rows(out)).isEqualTo(rows(primary));
      }
    }
  }

  private static void copyTree(Path from, Path to) throws Exception {
    try (var s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(t);
        else Files.copy(p, t);
      }
    }
  }

  @Test
  void refusesAnOutputItDidNotWrite() throws Exception {
    Path out = dir.resolve("other.db");
    JournaledDatabaseTest.sqlite(out, "CREATE TABLE x(y);");
    try (ReplicaClient replica = ReplicaUrl.open(dir.resolve("replica").toString());
        Follower f = new Follower(List.of(replica), out, Follower.Options.defaults())) {
      assertThatThrownBy(f::start).hasMessageContaining("was not written by restore -f");
    }
  }

  private static void insert(Path db, int n) throws Exception {
    JournaledDatabaseTest.sqlite(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" + n
        + ") INSERT INTO t(v) SELECT hex(randomblob(40)) FROM c;");
  }

  private static String rows(Path db) throws Exception {
    return JournaledDatabaseTest.sqlite(db, "SELECT count(*), sum(length(v)), max(id) FROM t");
  }
}
