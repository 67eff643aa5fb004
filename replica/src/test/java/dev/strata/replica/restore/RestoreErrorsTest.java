package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import dev.strata.replica.testing.SyntheticDatabase;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a restore does with bad replicas and bad requests: clear one-line errors, nothing half-written. */
class RestoreErrorsTest {
  @TempDir Path dir;
  private FileReplicaClient replica;
  private FakeClock clock;
  private LtxChain chain;
  private final List<LtxFileMeta> written = new ArrayList<>();
  private final List<byte[]> images = new ArrayList<>();

  @BeforeEach
  void writeChain() throws IOException {
    replica = new FileReplicaClient(dir.resolve("replica"));
    clock = new FakeClock(Instant.parse("2026-05-01T12:00:00Z"));
    chain = new LtxChain(replica, clock, dir);
    SyntheticDatabase db = new SyntheticDatabase(chain, 1024, 32, 9);
    written.add(db.snapshot(0));
    images.add(db.image());
    for (int i = 0; i < 6; i++) {
      clock.advance(Duration.ofMinutes(1));
      written.add(db.change(0, 2, 5));
      images.add(db.image());
    }
  }

  private static RestoreExecutor executor(ReplicaClient c, boolean force) {
    return new RestoreExecutor(c, new RestoreExecutor.Options(2, IntegrityCheck.NONE, force,
        RestoreProgress.silent()));
  }

  private Path levelFile(LtxFileMeta f) {
    return replica.root().resolve(Integer.toString(f.level())).resolve(f.fileName());
  }

  @Test
  void aFifoNamedLikeTheNextFileFailsTheRestoreAtOnce() throws Exception { // found by an adversarial review
    TxidRange next = new TxidRange(written.getLast().maxTxid() + 1, written.getLast().maxTxid() + 1);
    Path fifo = replica.root().resolve("0").resolve(next.fileName());
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      assertThatThrownBy(() -> new RestorePlanner(replica).latest()).isInstanceOf(IOException.class)
          .hasMessage("file replica " + replica.root() + ": 0/" + next.fileName() + " is a FIFO, not a regular file; "
              + "only strata's own files belong in a replica");
    });
  }

  @Test
  void bitFlipNamesTheFileAndItsRange() throws IOException {
    LtxFileMeta victim = written.get(3);
    try (RandomAccessFile f = new RandomAccessFile(levelFile(victim).toFile(), "rw")) {
      long pos = 100 + (f.length() - 116) / 2;
      f.seek(pos);
      int b = f.read();
      f.seek(pos);
      f.write(b ^ 0x10);
    }
    RestorePlan plan = new RestorePlanner(replica).latest();
    Path out = dir.resolve("out.db");
    for (ReplicaClient c : List.of(replica, new CountingReplicaClient(replica))) { // in place, and downloaded
      assertThatThrownBy(() -> executor(c, false).restore(plan, out))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("0/" + victim.fileName())
          .hasMessageContaining("TXIDs " + victim.range())
          .hasMessageContaining("corrupt");
      assertThat(out).doesNotExist();
      assertThat(dir.resolve("out.db.tmp")).doesNotExist();
      try (var s = Files.list(dir)) {
        assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".restore-"));
      }
    }
  }

  @Test
  void aFileCopiedOverAnotherIsRefusedNotRestored() throws IOException { // found by the torture harness
    LtxFileMeta victim = written.get(4), source = written.get(3);
    Files.copy(levelFile(source), levelFile(victim), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Path out = dir.resolve("copied.db");
    assertThatThrownBy(() -> executor(replica, false).restore(new RestorePlanner(replica).latest(), out))
        .hasMessageContaining("0/" + victim.fileName())
        .hasMessageContaining("header holds TXIDs " + source.range());
    assertThat(out).doesNotExist();
  }

  @Test
  void missingFileIsAGapNamingTheMissingTxids() throws IOException {
    LtxFileMeta victim = written.get(2);
    Files.delete(levelFile(victim));
    assertThatThrownBy(() -> new RestorePlanner(replica).latest())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("gap")
        .hasMessageContaining("TXIDs " + victim.range() + " are missing");
    // The points before the gap still restore.
    RestorePlan before = new RestorePlanner(replica).toTxid(written.get(1).maxTxid());
    Path out = dir.resolve("before.db");
    executor(replica, false).restore(before, out);
    assertThat(Files.readAllBytes(out)).isEqualTo(images.get(1));
  }

  @Test
  void aFileVanishingDuringTheDownloadFailsCleanly() throws IOException {
    RestorePlan plan = new RestorePlanner(replica).latest();
    LtxFileMeta victim = written.get(4);
    Files.delete(levelFile(victim)); // retention removed it after the plan was made
    Path out = dir.resolve("vanished.db");
    assertThatThrownBy(() -> executor(new CountingReplicaClient(replica), false).restore(plan, out))
        .hasMessageContaining("0/" + victim.fileName()).hasMessageContaining("TXIDs " + victim.range());
    assertThat(out).doesNotExist();
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".restore-") || n.endsWith(".tmp"));
    }
  }

  @Test
  void existingOutputIsRefusedUnlessForced() throws IOException {
    Path out = dir.resolve("taken.db");
    Files.writeString(out, "precious");
    RestorePlan plan = new RestorePlanner(replica).latest();
    assertThatThrownBy(() -> executor(replica, false).restore(plan, out))
        .hasMessageContaining("already exists").hasMessageContaining("--force");
    assertThat(Files.readString(out)).isEqualTo("precious");

    Files.delete(out);
    Path wal = dir.resolve("taken.db-wal");
    Files.writeString(wal, "old wal");
    assertThatThrownBy(() -> executor(replica, false).restore(plan, out)).hasMessageContaining("taken.db-wal");
    assertThat(out).doesNotExist();

    Files.writeString(out, "old");
    Files.writeString(dir.resolve("taken.db-shm"), "old shm");
    RestoreResult r = executor(replica, true).restore(plan, out);
    assertThat(Files.readAllBytes(out)).isEqualTo(images.getLast());
    assertThat(wal).doesNotExist();
    assertThat(dir.resolve("taken.db-shm")).doesNotExist();
    assertThat(r.txid()).isEqualTo(chain.txid());
  }

  @Test
  void aDatabaseCreatedDuringTheRestoreIsNotReplaced() throws IOException {
    Path out = dir.resolve("racing.db");
    ReplicaClient racing = new CountingReplicaClient(replica) {
      @Override
      public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
        if (!Files.exists(out)) Files.writeString(out, "the application was faster");
        return super.openFile(level, range, offset);
      }
    };
    assertThatThrownBy(() -> executor(racing, false).restore(new RestorePlanner(replica).latest(), out))
        .hasMessageContaining("appeared during the restore");
    assertThat(Files.readString(out)).isEqualTo("the application was faster");
    assertThat(dir.resolve("racing.db.tmp")).doesNotExist();
  }

  @Test
  void timestampBeforeFirstBackupIsAClearError() {
    Instant before = Instant.parse("2026-05-01T11:59:59Z");
    assertThatThrownBy(() -> new RestorePlanner(replica).toTimestamp(before))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("before the first backup")
        .hasMessageContaining("2026-05-01T12:00:00.000Z");
  }

  @Test
  void timestampsPickTheLastPointAtOrBefore() throws IOException {
    RestorePlanner planner = new RestorePlanner(replica);
    assertThat(planner.toTimestamp(Instant.parse("2026-05-01T12:00:00Z")).targetTxid()).isEqualTo(1);
    assertThat(planner.toTimestamp(Instant.parse("2026-05-01T12:02:30Z")).targetTxid())
        .isEqualTo(written.get(2).maxTxid());
    assertThat(planner.toTimestamp(Instant.parse("2030-01-01T00:00:00Z")).targetTxid()).isEqualTo(chain.txid());
  }

  /** Listed files without their header fields, as S3 lists them. */
  private static List<LtxFileMeta> bare(List<LtxFileMeta> listed) {
    return listed.stream().map(f -> LtxFileMeta.bare(f.level(), f.range(), f.size(), f.createdAt())).toList();
  }

  @Test
  void timestampsComeFromHeadersWhenTheListingLacksThem() throws IOException {
    CountingReplicaClient bare = new CountingReplicaClient(replica) {
      @Override
      public List<LtxFileMeta> listFiles(int level) throws IOException {
        return bare(super.listFiles(level));
      }

      @Override
      public List<LtxFileMeta> listAllFiles() throws IOException {
        return bare(super.listAllFiles());
      }
    };
    RestorePlanner planner = new RestorePlanner(bare);
    assertThat(planner.toTimestamp(Instant.parse("2026-05-01T12:04:10Z")).targetTxid())
        .isEqualTo(written.get(4).maxTxid());
    assertThat(bare.heads.get()).isBetween(1, 4); // a binary search, not every header
    assertThat(bare.opens.get()).isZero();
    // Without metadata at all (a HEAD that finds none), the 100-byte header is read.
    CountingReplicaClient none = new CountingReplicaClient(replica) {
      @Override
      public List<LtxFileMeta> listFiles(int level) throws IOException {
        return bare(super.listFiles(level));
      }

      @Override
      public List<LtxFileMeta> listAllFiles() throws IOException {
        return bare(super.listAllFiles());
      }

      @Override
      public LtxFileMeta head(int level, TxidRange range) throws IOException {
        LtxFileMeta f = super.head(level, range);
        return LtxFileMeta.bare(f.level(), f.range(), f.size(), f.createdAt());
      }
    };
    assertThat(new RestorePlanner(none).toTimestamp(Instant.parse("2026-05-01T12:04:10Z")).targetTxid())
        .isEqualTo(written.get(4).maxTxid());
    assertThat(none.opens.get()).isBetween(1, 4);
    Path out = dir.resolve("bare.db");
    executor(bare, false).restore(planner.toTxid(written.get(4).maxTxid()), out);
    assertThat(Files.readAllBytes(out)).isEqualTo(images.get(4));
  }

  @Test
  void txidOffARestorePointListsTheNearestOnes() {
    LtxFileMeta f = written.get(3); // covers two TXIDs: its first one is not a restore point
    assertThatThrownBy(() -> new RestorePlanner(replica).toTxid(f.minTxid()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a restore point")
        .hasMessageContaining(dev.strata.ltx.Txid.format(written.get(2).maxTxid()))
        .hasMessageContaining(dev.strata.ltx.Txid.format(f.maxTxid()));
  }

  @Test
  void brokenDownloadResumesFromItsOffset() throws IOException {
    AtomicInteger failures = new AtomicInteger();
    List<Long> resumedAt = new ArrayList<>();
    ReplicaClient flaky = new CountingReplicaClient(replica) {
      @Override
      public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
        if (offset > 0) resumedAt.add(offset);
        InputStream in = super.openFile(level, range, offset);
        if (level != 9 || offset > 0) return in;
        return new FilterInputStream(in) { // the snapshot's first connection drops after 3000 bytes
          long read;

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (read >= 3000) {
              failures.incrementAndGet();
              throw new IOException("connection reset");
            }
            int n = super.read(b, off, (int) Math.min(len, 3000 - read));
            if (n > 0) read += n;
            return n;
          }
        };
      }
    };
    Path out = dir.resolve("resumed.db");
    executor(flaky, false).restore(new RestorePlanner(replica).latest(), out);
    assertThat(failures.get()).isEqualTo(1);
    assertThat(resumedAt).containsExactly(3000L);
    assertThat(Files.readAllBytes(out)).isEqualTo(images.getLast());
  }

  @Test
  void emptyReplicaSaysSo() {
    FileReplicaClient empty = new FileReplicaClient(dir.resolve("nothing"));
    assertThatThrownBy(() -> new RestorePlanner(empty).latest()).hasMessageContaining("holds no backup");
  }
}
