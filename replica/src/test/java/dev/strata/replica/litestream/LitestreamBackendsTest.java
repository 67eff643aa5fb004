package dev.strata.replica.litestream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The golden Litestream replicas restore to their latest expected state from S3 (S3Proxy) and SFTP (MINA). */
class LitestreamBackendsTest {
  private static final List<String> SETS = List.of("ls03-basic", "ls03-age", "ls05-levels");
  @TempDir Path tmp;

  @Test
  void s3() throws Exception {
    Path dir = tmp.resolve("s3");
    try (S3ProxyServer s3 = S3ProxyServer.start(dir)) { // objects are files under dir/<bucket>/<key>
      for (String set : SETS) {
        place(set, dir.resolve(S3ProxyServer.BUCKET).resolve(set));
        check(set, ReplicaUrl.open(s3.url(set)));
      }
    }
  }

  /** Copies a set to {@code target}, its generations with the times in the order Litestream wrote them. */
  private void place(String set, Path target) throws Exception {
    Path copy = LitestreamSets.copyReplica(set, tmp.resolve("copy-" + target.getFileName() + "-" + set));
    Files.createDirectories(target.getParent());
    Files.move(copy, target);
    long t = Instant.now().getEpochSecond() - 3600;
    for (Path gen : order(target)) {
      t += 60;
      try (Stream<Path> files = Files.walk(gen)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          if (Files.isRegularFile(p)) Files.setLastModifiedTime(p, FileTime.from(Instant.ofEpochSecond(t)));
        }
      }
    }
  }

  @Test
  void sftp() throws Exception {
    try (SftpTestServer server = SftpTestServer.start(tmp.resolve("sftp-root"))) {
      for (String set : SETS) {
        place(set, tmp.resolve("sftp-root/backups/" + set));
        check(set, ReplicaUrl.open(server.url("/backups/" + set)));
      }
    }
  }

  /** The generation directories (0.3) in the order their sets were written; the ltx directory (0.5). */
  private static List<Path> order(Path replica) throws Exception {
    if (Files.isDirectory(replica.resolve("ltx"))) return List.of(replica.resolve("ltx"));
    // the generation whose snapshot holds more is the later one (the sets start from an empty database)
    try (Stream<Path> gens = Files.list(replica.resolve("generations"))) {
      return gens.sorted((a, b) -> Long.compare(size(a.resolve("snapshots")), size(b.resolve("snapshots"))))
          .toList();
    }
  }

  private static long size(Path dir) {
    try (Stream<Path> f = Files.list(dir)) {
      return f.mapToLong(p -> p.toFile().length()).sum();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void check(String set, ReplicaClient client) throws Exception {
    try (ReplicaClient c0 = client) {
      ReplicaClient c = set.contains("age") ? AgeReplicaClient.wrap(c0, new AgeKeys(List.of(),
          List.of(LitestreamSets.set(set).resolve("age-identity.txt")))) : c0;
      Litestream.Version v = Litestream.detect(c);
      assertThat(v).isNotNull();
      Litestream.Prepared p = Litestream.prepare(c, v, Litestream.Target.LATEST);
      Path out = tmp.resolve(set + "-" + c.type() + ".db");
      new RestoreExecutor(c, RestoreExecutor.Options.defaults()).restoreBuilt(out, p.builder());
      LitestreamSets.Expected latest = LitestreamSets.expected(set).stream().filter(e -> e.time() == null)
          .findFirst().orElseThrow();
      assertThat(LitestreamSets.digest(out).sha256()).as(set + " on " + c.type()).isEqualTo(latest.sha256());
    }
  }
}
