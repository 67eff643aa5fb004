package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.ForwardingReplicaClient;
import dev.strata.server.client.ServerClient;
import dev.strata.server.compaction.JobLeases;
import dev.strata.server.store.Rows;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage of deleted databases, on the file backend: what a job still wrote there after the {@code DELETE}, or
 * what an interrupted {@code DELETE} left, is swept by the pass over deleted databases, never before it is an hour
 * old; storage that no deletion here accounts for is left alone.
 */
class DeletedStorageTest {
  private static final Duration TWO_HOURS = Duration.ofHours(2);
  @TempDir Path dir;
  private final AtomicBoolean deletesFail = new AtomicBoolean();
  private TestServer ts;
  private ServerClient client;

  private void start() throws IOException {
    Path data = dir.resolve("data");
    ReplicaClient storage = new FailingDeletes(new FileReplicaClient(data.resolve("objects")), deletesFail);
    ts = new TestServer(data, new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS)), UnaryOperator.identity(),
        storage);
    client = ts.client("c1");
  }

  @AfterEach
  void stop() throws IOException {
    if (ts != null) ts.close();
  }

  @Test
  void whatAJobWroteAfterTheDeleteIsSweptOnceAnHourOld() throws Exception {
    start();
    upload("app", 3);
    ts.compactAll();
    client.delete("app");
    assertThat(objects("app")).isEmpty();
    // A job that lost its lease to the DELETE stores its files all the same: one two hours ago, one just now (as
    // would the first file of a database of that name created moments ago, not yet catalogued).
    Path old = storeObject("app", 1, 4, TWO_HOURS);
    Path young = storeObject("app", 2, 5, Duration.ZERO);

    // One instance at a time: while another holds the pass's lease, this one leaves it.
    try (JobLeases.Held other = new JobLeases(ts.server.store()).tryAcquire("*", "deleted-databases")) {
      assertThat(other).isNotNull();
      ts.server.scheduler().sweepDeletedDatabases();
      assertThat(old).exists();
    }
    ts.server.scheduler().sweepDeletedDatabases();
    assertThat(old).doesNotExist();
    assertThat(young).exists();

    // The deletion is remembered until its storage is found empty a day after it.
    ts.clock.advance(Duration.ofHours(25));
    ts.server.scheduler().sweepDeletedDatabases();
    assertThat(young).exists();
    assertThat(deletions()).containsExactly("c1/app");
    age(young, TWO_HOURS);
    ts.server.scheduler().sweepDeletedDatabases();
    assertThat(objects("app")).isEmpty();
    assertThat(deletions()).isEmpty();
  }

  @Test
  void aDeleteCutShortByStorageIsFinishedByTheNextPassAndTheNameServesAgain() throws Exception {
    start();
    upload("app", 2);
    ts.compactAll();
    deletesFail.set(true);
    client.delete("app"); // done once its rows are: the storage it could not remove is the next pass's
    assertThat(client.positions()).doesNotContainKey("app");
    assertThat(objects("app")).isNotEmpty();
    // A database of that name, created again meanwhile, waits for the removal before its files are stored.
    upload("app", 1);
    assertThat(ts.server.scheduler().runLevel(1)).isZero();

    deletesFail.set(false);
    ts.server.scheduler().sweepDeletedDatabases();
    assertThat(objects("app")).as("young objects too: all of the deleted database goes").isEmpty();
    assertThat(ts.server.scheduler().runLevel(1)).isEqualTo(1);
    List<Path> stored = objects("app");
    assertThat(stored).hasSize(1);
    // The name is a database again: the deletion is forgotten and the new database's storage left to it.
    age(stored.getFirst(), TWO_HOURS);
    ts.server.scheduler().sweepDeletedDatabases();
    assertThat(deletions()).isEmpty();
    assertThat(objects("app")).isEqualTo(stored);
  }

  @Test
  void storageThatNoDeletionHereAccountsForIsLeftAlone() throws Exception {
    start();
    upload("app", 1);
    ts.compactAll();
    // A database being created (its file stored, its metadata not yet committed) and an old prefix the metadata
    // does not know (a litefs-backup bucket before its import).
    Path creating = storeObject("creating", 1, 1, Duration.ZERO);
    Path foreign = storeObject("lfsb", 9, 1, Duration.ofDays(30));
    ts.server.scheduler().sweepDeletedDatabases();
    ts.close();
    ts = null;
    start(); // and the pass at start
    assertThat(creating).exists();
    assertThat(foreign).exists();
    assertThat(objects("app")).isNotEmpty();
  }

  private void upload(String name, int txns) throws IOException {
    TestDb db = new TestDb(512);
    long first = client.positions().containsKey(name) ? client.positions().get(name).txid() : 0;
    for (int i = 0; i < first; i++) db.commit(Map.of(1, db.fill((char) ('a' + i % 26))), 0);
    for (int i = 0; i < txns; i++) client.writeTx(name, db.commit(Map.of(1, db.fill((char) ('a' + i % 26))), 0));
  }

  /** Stores the LTX file of TXID {@code txid} of some database as {@code name}'s, uncatalogued, {@code age} old. */
  private Path storeObject(String name, int level, long txid, Duration age) throws IOException {
    TestDb db = new TestDb(512);
    byte[] file = null;
    for (long t = 1; t <= txid; t++) file = db.commit(Map.of(1, db.fill((char) ('a' + t % 26))), 0);
    LtxFileInfo info = LtxDecoder.verify(new ByteArrayInputStream(file));
    ts.server.storage().child("c1").child(name).writeFile(level, info, new ByteArrayInputStream(file), file.length);
    Path p = dir.resolve("data/objects/c1").resolve(name).resolve(Integer.toString(level))
        .resolve(new TxidRange(txid, txid).fileName());
    age(p, age);
    return p;
  }

  private static void age(Path p, Duration age) throws IOException {
    Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(age)));
  }

  /** Every object of a database's storage. */
  private List<Path> objects(String name) throws IOException {
    Path root = dir.resolve("data/objects/c1").resolve(name);
    if (!Files.exists(root)) return List.of();
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private List<String> deletions() throws IOException {
    return ts.server.store().read(Rows::deletions).stream().map(d -> d.cluster() + "/" + d.name()).toList();
  }

  /** The file backend, whose deletions fail while {@code fail} is set: storage erring in the middle of a DELETE. */
  private static final class FailingDeletes extends ForwardingReplicaClient {
    private final AtomicBoolean fail;

    FailingDeletes(ReplicaClient delegate, AtomicBoolean fail) {
      super(delegate);
      this.fail = fail;
    }

    @Override
    public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
      if (fail.get() && !ranges.isEmpty()) throw new IOException("storage unavailable");
      super.deleteFiles(level, ranges);
    }

    @Override
    protected ReplicaClient wrap(ReplicaClient child) {
      return new FailingDeletes(child, fail);
    }
  }
}
