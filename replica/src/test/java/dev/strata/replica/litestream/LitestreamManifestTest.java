package dev.strata.replica.litestream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestoreResult;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every expected restore of the three golden Litestream replica sets' MANIFEST.md holds. */
class LitestreamManifestTest {
  @TempDir Path tmp;

  @Test
  void ls03Basic() throws Exception {
    check("ls03-basic", Litestream.Version.V03, false);
  }

  @Test
  void ls03Age() throws Exception {
    check("ls03-age", Litestream.Version.V03, true);
  }

  @Test
  void ls05Levels() throws Exception {
    check("ls05-levels", Litestream.Version.V05, false);
  }

  private void check(String set, Litestream.Version version, boolean age) throws Exception {
    Path replica = version == Litestream.Version.V03 ? LitestreamSets.copyReplica(set, tmp)
        : LitestreamSets.set(set).resolve("replica");
    ReplicaClient client = new FileReplicaClient(replica);
    if (age) {
      client = AgeReplicaClient.wrap(client, new AgeKeys(List.of(),
          List.of(LitestreamSets.set(set).resolve("age-identity.txt"))));
    }
    assertThat(Litestream.detect(client)).isEqualTo(version);
    if (version == Litestream.Version.V03) {
      LitestreamSets.restoreTimes(client, replica, LitestreamSets.oracle(set), tmp);
    }
    int n = 0;
    for (LitestreamSets.Expected e : LitestreamSets.expected(set)) {
      Litestream.Prepared p = Litestream.prepare(client, version, new Litestream.Target(null, null, null, e.time()));
      Path out = tmp.resolve("out-" + n++ + ".db");
      RestoreResult r = new RestoreExecutor(client, RestoreExecutor.Options.defaults())
          .restoreBuilt(out, p.builder());
      LitestreamSets.Digest d = LitestreamSets.digest(r.path());
      assertThat(d.sha256()).as(set + " at " + (e.time() == null ? "latest" : e.time()) + " (" + p.description()
          + ")").isEqualTo(e.sha256());
      assertThat(d.rows()).isEqualTo(e.rows());
    }
    assertThat(n).isGreaterThanOrEqualTo(4);
  }
}
