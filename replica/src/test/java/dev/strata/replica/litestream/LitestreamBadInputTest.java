package dev.strata.replica.litestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.restore.RestoreExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged or ambiguous Litestream replicas: each a one-line error naming the file, never an older database. */
class LitestreamBadInputTest {
  private static final String GEN2 = "generations/7f18289bab8275b6";
  @TempDir Path tmp;

  private Path copy() throws IOException {
    return LitestreamSets.copyReplica("ls03-basic", tmp);
  }

  private Throwable restoreLatest(ReplicaClient c) {
    Path out = tmp.resolve("out.db");
    try {
      Litestream.Prepared p = Litestream.prepare(c, Litestream.detect(c), Litestream.Target.LATEST);
      new RestoreExecutor(c, RestoreExecutor.Options.defaults()).restoreBuilt(out, p.builder());
    } catch (Throwable t) {
      assertThat(out).doesNotExist();
      assertThat(tmp.resolve("out.db.tmp")).doesNotExist();
      assertThat(t.getMessage()).doesNotContain("\n");
      return t;
    }
    throw new AssertionError("restore succeeded");
  }

  /** Makes the second generation the one written last, whatever order the copy gave. */
  private static void newestSecond(Path replica) throws IOException {
    try (var files = Files.walk(replica.resolve(GEN2))) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) {
          Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(60)));
        }
      }
    }
  }

  @Test
  void missingWalSegment() throws IOException {
    Path r = copy();
    newestSecond(r);
    Files.delete(r.resolve(GEN2 + "/wal/00000000_000537e8.wal.lz4"));
    assertThat(restoreLatest(new FileReplicaClient(r)))
        .hasMessageContaining("missing WAL segment " + GEN2 + "/wal/00000000_000537e8.wal.lz4");
  }

  @Test
  void corruptSnapshot() throws IOException {
    Path r = copy();
    newestSecond(r);
    Path snap = r.resolve(GEN2 + "/snapshots/00000000.snapshot.lz4");
    byte[] b = Files.readAllBytes(snap);
    for (int i = b.length / 2; i < b.length / 2 + 64; i++) b[i] ^= 0x5a;
    Files.write(snap, b);
    newestSecond(r);
    assertThat(restoreLatest(new FileReplicaClient(r))).hasMessageContaining(GEN2 + "/snapshots/00000000.snapshot.lz4");
  }

  @Test
  void corruptWalSegment() throws IOException {
    Path r = copy();
    Path seg = r.resolve(GEN2 + "/wal/00000000_000537e8.wal.lz4");
    byte[] b = Files.readAllBytes(seg);
    for (int i = b.length / 2; i < b.length / 2 + 16; i++) b[i] ^= 0x5a;
    Files.write(seg, b);
    newestSecond(r);
    assertThat(restoreLatest(new FileReplicaClient(r))).hasMessageContaining(GEN2 + "/wal/00000000_000537e8.wal.lz4");
  }

  @Test
  void generationWithoutSnapshot() throws IOException {
    Path r = copy();
    newestSecond(r);
    Files.delete(r.resolve(GEN2 + "/snapshots/00000000.snapshot.lz4"));
    assertThat(restoreLatest(new FileReplicaClient(r)))
        .hasMessageContaining("generation 7f18289bab8275b6 has no snapshot");
  }

  @Test
  void timestampBeforeTheFirstSnapshot() throws IOException {
    ReplicaClient c = new FileReplicaClient(LitestreamSets.set("ls03-basic").resolve("replica"));
    assertThatThrownBy(() -> Litestream.prepare(c, Litestream.Version.V03,
        new Litestream.Target(null, null, null, Instant.parse("2020-01-01T00:00:00Z"))))
        .hasMessageContaining("is before the first snapshot generations/")
        .hasMessageContaining(".snapshot.lz4");
    ReplicaClient c5 = new FileReplicaClient(LitestreamSets.set("ls05-levels").resolve("replica"));
    assertThatThrownBy(() -> Litestream.prepare(c5, Litestream.Version.V05,
        new Litestream.Target(null, null, null, Instant.parse("2020-01-01T00:00:00Z"))))
        .hasMessageContaining("is before the first snapshot ltx/");
  }

  @Test
  void mixedLayoutsAreRefusedNamingBoth() throws IOException {
    Path r = copy();
    Files.createDirectories(r.resolve("0"));
    assertThatThrownBy(() -> Litestream.detect(new FileReplicaClient(r)))
        .hasMessageContaining("generations/").hasMessageContaining("Strata's level directories 0/");
    Files.delete(r.resolve("0"));
    Files.createDirectories(r.resolve("ltx"));
    assertThatThrownBy(() -> Litestream.detect(new FileReplicaClient(r)))
        .hasMessageContaining("generations/").hasMessageContaining("ltx/");
  }

  @Test
  void ageWithoutOrWithTheWrongIdentity() throws IOException {
    Path r = LitestreamSets.set("ls03-age").resolve("replica");
    assertThat(restoreLatest(AgeReplicaClient.wrap(new FileReplicaClient(r), AgeKeys.NONE)))
        .hasMessageContaining("replica is encrypted; give an age identity");
    Path wrong = tmp.resolve("wrong.txt");
    Files.writeString(wrong, AgeKeys.newIdentity().fileText());
    assertThat(restoreLatest(AgeReplicaClient.wrap(new FileReplicaClient(r), new AgeKeys(List.of(), List.of(wrong)))))
        .hasMessageContaining("wrong age identity").hasMessageContaining(".snapshot.lz4");
  }

  @Test
  void strataWillNotReplicateIntoALitestreamReplica() {
    ReplicaClient c = new FileReplicaClient(LitestreamSets.set("ls05-levels").resolve("replica"));
    assertThatThrownBy(() -> Litestream.refuseAsTarget(c)).hasMessageContaining("strata import")
        .hasMessageContaining("Litestream 0.5");
  }
}
