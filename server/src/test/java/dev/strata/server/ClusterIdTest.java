package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Pos;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import dev.strata.server.store.Rows;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LiteFS cluster ID ({@code Litefs-Cluster-Id}): recorded when a LiteFS cluster first writes, shown by
 * {@code /db/info}, another ID refused so that two LiteFS clusters never share backups, released by deleting.
 */
class ClusterIdTest {
  static final String A = "LFSC25AD000F32ED02A9";
  static final String B = "LFSCA5E3680C1C2FCFFE";

  @TempDir Path dir;

  @Test
  void theFirstClusterToWriteIsRecordedAndAnotherIsRefused() throws Exception {
    try (Api api = new Api(dir)) {
      LiteFsLikeClient a = new LiteFsLikeClient(api.client().withClusterId(A));
      a.sync();
      assertThat(api.recorded()).as("polling an empty cluster binds nothing").isNull();

      write(a, "app.db", 'a');
      a.sync();
      assertThat(api.recorded()).isEqualTo(A);
      assertThat(api.client().info("app.db", false).clusterId()).isEqualTo(A);
      write(a, "app.db", 'b');
      a.sync();
      Pos backedUp = api.client().positions().get("app.db");

      LiteFsLikeClient b = new LiteFsLikeClient(api.client().withClusterId(B));
      write(b, "app.db", 'x');
      Pos bLocal = b.dbs.get("app.db").db.pos();
      assertThatThrownBy(b::sync).isInstanceOfSatisfying(ServerException.class, e -> {
        assertThat(e.status()).isEqualTo(422);
        assertThat(e.code()).isEqualTo("ECLUSTERIDMISMATCH");
        assertThat(e.getMessage()).isEqualTo("cluster id mismatch, expecting \"" + A + "\", got \"" + B
            + "\" (cluster \"prod\" holds another LiteFS cluster's backups)");
      });
      assertThatThrownBy(() -> b.server.snapshotBytes("app.db", null)).isInstanceOf(ServerException.class);
      assertThat(b.restores).as("B's own database is left alone").isZero();
      assertThat(b.dbs.get("app.db").db.pos()).isEqualTo(bLocal);
      assertThat(api.client().positions()).containsExactlyEntriesOf(Map.of("app.db", backedUp));

      assertThat(api.client().info("app.db", false).clusterId()).as("no header: always allowed").isEqualTo(A);
      write(a, "app.db", 'c');
      a.sync();
      assertThat(api.recorded()).isEqualTo(A);
    }
  }

  @Test
  void anInvalidIdIsRefusedAndNothingIsRecorded() throws Exception {
    try (Api api = new Api(dir)) {
      for (String bad : List.of("LFSC123", "XXXX25AD000F32ED02A9", "LFSC25AD000F32ED02AZ", "LFSC-25AD000F32ED02A")) {
        TestDb db = new TestDb(512);
        byte[] ltx = db.commit(Map.of(1, db.fill('a')), 0);
        assertThatThrownBy(() -> api.client().withClusterId(bad).writeTx("app.db", ltx))
            .as(bad).isInstanceOfSatisfying(ServerException.class, e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.code()).isEqualTo("EBADCLUSTERID");
            });
      }
      assertThat(api.recorded()).isNull();
      assertThat(api.client().positions()).isEmpty();
    }
  }

  @Test
  void deletingTheLastDatabaseReleasesTheCluster() throws Exception {
    try (Api api = new Api(dir)) {
      LiteFsLikeClient a = new LiteFsLikeClient(api.client().withClusterId(A));
      write(a, "one.db", 'a');
      write(a, "two.db", 'a');
      a.sync();
      api.client().delete("one.db");
      assertThat(api.recorded()).isEqualTo(A);
      api.client().delete("two.db");
      assertThat(api.recorded()).isNull();

      LiteFsLikeClient b = new LiteFsLikeClient(api.client().withClusterId(B));
      write(b, "one.db", 'b');
      b.sync();
      assertThat(api.recorded()).isEqualTo(B);
      assertThatThrownBy(a::sync).isInstanceOfSatisfying(ServerException.class,
          e -> assertThat(e.code()).isEqualTo("ECLUSTERIDMISMATCH"));
    }
  }

  @Test
  void aFailedFirstUploadBindsAnEmptyClusterThatADeleteReleases() throws Exception {
    try (Api api = new Api(dir)) {
      assertThatThrownBy(() -> api.client().withClusterId(A).writeTx("app.db", new byte[] {1, 2, 3}))
          .isInstanceOfSatisfying(ServerException.class, e -> assertThat(e.code()).isEqualTo("EBADLTX"));
      assertThat(api.recorded()).isEqualTo(A);
      assertThatThrownBy(() -> api.client().delete("app.db"))
          .isInstanceOfSatisfying(ServerException.class, e -> assertThat(e.code()).isEqualTo("ENODB"));
      assertThat(api.recorded()).isNull();
    }
  }

  @Test
  void aClusterWithDatabasesIsBoundOnFirstContact() throws Exception {
    try (Api api = new Api(dir)) {
      TestDb db = new TestDb(512);
      api.client().writeTx("app.db", db.commit(Map.of(1, db.fill('a')), 0)); // no header: nothing recorded
      assertThat(api.recorded()).isNull();
      api.client().withClusterId(A).positions();
      assertThat(api.recorded()).isEqualTo(A);
    }
  }

  @Test
  void aDataDirectoryOfSchemaVersion1IsUpgraded() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(TestMetadata.POSTGRES, "the embedded store's own upgrade");
    Path data = dir.resolve("data");
    try (TestServer ts = new TestServer(data)) {
      TestDb db = new TestDb(512);
      ts.client("prod").writeTx("app.db", db.commit(Map.of(1, db.fill('a')), 0));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("server.db"));
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE cluster_ids");
      s.execute("DROP TABLE leases");
      s.execute("DROP TABLE files");
      s.execute("ALTER TABLE databases DROP COLUMN catalogued");
      s.execute("ALTER TABLE deletions DROP COLUMN deleted_at");
      s.execute("ALTER TABLE deletions DROP COLUMN removed");
      s.execute("PRAGMA user_version = 1");
    }
    try (Api api = new Api(data)) {
      assertThat(api.client().positions()).containsOnlyKeys("app.db");
      api.client().withClusterId(A).positions();
      assertThat(api.recorded()).isEqualTo(A);
    }
  }

  @Test
  void ofTwoClustersWritingFirstAtOnceOnlyOneGetsIn() throws Exception {
    try (Api api = new Api(dir); ExecutorService pool = Executors.newFixedThreadPool(2)) {
      for (int round = 0; round < 10; round++) {
        String cluster = "race" + round;
        List<Callable<String>> writers = new ArrayList<>();
        for (String id : new String[] {A, B}) {
          writers.add(() -> {
            TestDb db = new TestDb(512);
            try {
              api.client(cluster).withClusterId(id).writeTx("app.db", db.commit(Map.of(1, db.fill('a')), 0));
              return id;
            } catch (ServerException e) {
              return e.code();
            }
          });
        }
        List<String> results = new ArrayList<>();
        for (Future<String> f : pool.invokeAll(writers)) results.add(f.get());
        assertThat(results).as("round " + round)
            .containsExactlyInAnyOrder(api.recorded(cluster), "ECLUSTERIDMISMATCH");
      }
    }
  }

  /** Commits one page locally on a LiteFS-like node. */
  private static void write(LiteFsLikeClient node, String name, char fill) {
    node.write(name, 512, Map.of(1, TestDb.fill(512, fill)), 1, System.currentTimeMillis());
  }

  /** A test server and what its metadata database recorded. */
  static final class Api implements AutoCloseable {
    final TestServer ts;

    Api(Path data) throws IOException {
      ts = new TestServer(data);
    }

    /** A client of cluster {@code prod}, without a cluster ID. */
    ServerClient client() {
      return client("prod");
    }

    ServerClient client(String cluster) {
      return ts.client(cluster);
    }

    /** The LiteFS cluster ID {@code prod} is bound to, from the metadata database. */
    String recorded() throws IOException {
      return recorded("prod");
    }

    String recorded(String cluster) throws IOException {
      return ts.server.store().read(c -> Rows.clusterId(c, cluster));
    }

    @Override
    public void close() throws IOException {
      ts.close();
    }
  }
}
