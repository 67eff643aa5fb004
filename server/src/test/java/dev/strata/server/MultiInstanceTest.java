package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.Pos;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.level.Level;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LocalPostgres;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import dev.strata.server.compaction.JobLeases;
import dev.strata.server.store.CataloguedReplicaClient;
import dev.strata.server.store.DbRow;
import dev.strata.server.store.Lease;
import dev.strata.server.store.PostgresMetadataStore;
import dev.strata.server.store.Rows;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several server instances on one PostgreSQL database and one storage root, as a load balancer would use them: any
 * request to any instance gives what one instance gives; one upload wins from a base; a killed instance's jobs are
 * taken over; a paused one cannot commit stale work; PostgreSQL going away costs 503s, never data.
 */
class MultiInstanceTest {
  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final FakeClock clock = new FakeClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : open.reversed()) c.close();
  }

  private Server instance(String name, String metadataUrl) throws IOException {
    ServerConfig cfg = ServerConfig.defaults(dir.resolve(name)).withBind(new InetSocketAddress("127.0.0.1", 0))
        .withMetadataUrl(metadataUrl).withReplicaUrl(dir.resolve("objects").toString()).withClock(clock)
        .withSchedule(false).withStallTimeout(Duration.ofSeconds(5));
    Server s = Server.start(cfg);
    open.add(s);
    return s;
  }

  private static ServerClient client(Server s) {
    return ServerClient.forCluster(s.localUrl(), "c", null);
  }

  @Test
  void requestsSpreadOverThreeInstancesGiveWhatOneInstanceGives() throws Exception {
    String url = TestMetadata.freshDatabase();
    List<Server> instances = List.of(instance("a", url), instance("b", url), instance("c", url));
    Random rnd = new Random(7);
    Map<String, TestDb> dbs = new TreeMap<>();
    Map<String, Map<Long, byte[]>> states = new TreeMap<>();
    for (int round = 0; round < 12; round++) {
      for (int d = 0; d < 3; d++) {
        String name = "db" + d;
        TestDb db = dbs.computeIfAbsent(name, n -> new TestDb(512));
        for (int t = 0; t < 5; t++) {
          Map<Integer, byte[]> changes = new TreeMap<>();
          int commit = Math.max(1, db.commit + rnd.nextInt(3) - 1);
          for (int p = 1; p <= commit; p++) {
            if (p > db.commit || rnd.nextInt(4) == 0) changes.put(p, TestDb.fill(512, (char) ('a' + rnd.nextInt(26))));
          }
          byte[] file = db.commit(changes, commit, clock.millis());
          client(instances.get(rnd.nextInt(3))).writeTx(name, file);
          states.computeIfAbsent(name, n -> new TreeMap<>()).put(db.txid, db.bytes());
        }
      }
      // Two instances run the same levels at once: the leases let one of them do each database's job.
      clock.advance(Duration.ofSeconds(10));
      List<Thread> jobs = new ArrayList<>();
      for (Server s : List.of(instances.get(round % 3), instances.get((round + 1) % 3))) {
        jobs.add(Thread.ofVirtual().start(() -> {
          s.scheduler().runLevel(1);
          s.scheduler().runLevel(2);
          if (rnd.nextInt(4) == 0) s.scheduler().runLevel(Level.SNAPSHOT);
        }));
      }
      for (Thread t : jobs) t.join();
    }
    for (String name : dbs.keySet()) {
      TestDb db = dbs.get(name);
      List<ServerClient.RestorePoint> first = null;
      for (Server s : instances) {
        assertThat(client(s).positions().get(name)).isEqualTo(db.pos());
        assertThat(client(s).snapshotBytes(name, "sqlite")).isEqualTo(db.bytes());
        List<ServerClient.RestorePoint> points = client(s).info(name, true).restorablePaths();
        if (first == null) first = points;
        assertThat(points).as("every instance lists the same restore points").isEqualTo(first);
        assertThat(points.stream().map(ServerClient.RestorePoint::maxTxid).distinct().count())
            .as("no duplicate restore point").isEqualTo(points.size());
      }
      // Every listed point restores to exactly the state the client had then (checked on a random instance).
      for (ServerClient.RestorePoint p : first) {
        Server s = instances.get(rnd.nextInt(3));
        assertThat(client(s).restoreCheck(name, p.maxTxid(), null).txid()).isEqualTo(p.maxTxid());
        assertThat(states.get(name)).containsKey(p.maxTxid());
      }
      assertThat(instances.getFirst().store().read(c -> Rows.findDb(c, "c", name)).hwm()).isEqualTo(db.txid);
    }
  }

  @Test
  void twoInstancesUploadingFromOneBaseExactlyOneWins() throws Exception {
    String url = TestMetadata.freshDatabase();
    Server a = instance("a", url), b = instance("b", url);
    for (int round = 0; round < 20; round++) {
      String name = "race" + round;
      TestDb x = new TestDb(512), y = new TestDb(512);
      byte[] base = x.commit(Map.of(1, TestDb.fill(512, 'a')), 0);
      y.commit(Map.of(1, TestDb.fill(512, 'a')), 0);
      client(a).writeTx(name, base);
      byte[] fromX = x.commit(Map.of(1, TestDb.fill(512, 'x')), 0);
      byte[] fromY = y.commit(Map.of(2, TestDb.fill(512, 'y')), 2, 0);
      CountDownLatch go = new CountDownLatch(1);
      Map<String, Object> outcome = new ConcurrentHashMap<>();
      Thread tx = Thread.ofVirtual().start(() -> outcome.put("x", send(go, client(a), name, fromX)));
      Thread ty = Thread.ofVirtual().start(() -> outcome.put("y", send(go, client(b), name, fromY)));
      go.countDown();
      tx.join();
      ty.join();
      long wins = outcome.values().stream().filter(o -> o instanceof Long).count();
      assertThat(wins).as("round %d: %s", round, outcome).isEqualTo(1);
      Pos winner = outcome.get("x") instanceof Long ? x.pos() : y.pos();
      ServerException lost = (ServerException) outcome.values().stream().filter(o -> o instanceof ServerException)
          .findFirst().orElseThrow();
      assertThat(lost.code()).isEqualTo("EPOSMISMATCH");
      assertThat(lost.pos()).as("the loser learns the winner's position").isEqualTo(winner);
      assertThat(client(b).positions().get(name)).isEqualTo(winner);
    }
  }

  private static Object send(CountDownLatch go, ServerClient c, String name, byte[] file) {
    try {
      go.await();
      return c.writeTx(name, file);
    } catch (ServerException e) {
      return e;
    } catch (Exception e) {
      return e.toString();
    }
  }

  @Test
  void theSecondInstanceToReachARequestLeavesTheFlushToTheFirst() throws Exception {
    String url = TestMetadata.freshDatabase();
    Server a = instance("a", url), b = instance("b", url);
    TestDb db = new TestDb(512);
    client(a).writeTx("app", db.commit(Map.of(1, TestDb.fill(512, 'a')), 0));
    // Both instances read the request at the same boundary; a runs it first.
    Rows.CompactionRequest seenByA = a.store().read(c -> Rows.compactionRequests(c, 1)).getFirst();
    Rows.CompactionRequest seenByB = b.store().read(c -> Rows.compactionRequests(c, 1)).getFirst();
    assertThat(a.jobs().run(seenByA)).isTrue();
    client(b).writeTx("app", db.commit(Map.of(2, TestDb.fill(512, 'b')), 0));
    // b, second, stores no level-1 file of the one transaction since: the request waits for the next boundary.
    assertThat(b.jobs().run(seenByB)).isFalse();
    assertThat(a.jobs().storage("c", "app").listFiles(1)).hasSize(1);
    // At the next boundary either instance flushes it.
    Rows.CompactionRequest next = b.store().read(c -> Rows.compactionRequests(c, 1)).getFirst();
    assertThat(b.jobs().run(next)).isTrue();
    assertThat(a.jobs().storage("c", "app").listFiles(1)).hasSize(2);
    assertThat(b.store().read(c -> Rows.findDb(c, "c", "app")).hwm()).isEqualTo(db.txid);
  }

  @Test
  void aDeadInstancesLeaseExpiresAndItsJobsAreTakenOver() throws Exception {
    String url = TestMetadata.freshDatabase();
    Server b = instance("b", url);
    TestDb db = new TestDb(512);
    client(b).writeTx("app", db.commit(Map.of(1, TestDb.fill(512, 'a')), 0));
    // An instance that took the lease and then died: its row stays until it expires.
    b.store().write(c -> Lease.acquire(c, "c", "app", "dead-instance", System.currentTimeMillis(),
        JobLeases.TTL.toMillis()));
    long start = System.nanoTime();
    assertThat(b.scheduler().runLevel(1)).as("the dead instance's lease is still valid").isZero();
    while (b.scheduler().runLevel(1) == 0) {
      assertThat(System.nanoTime() - start).as("taken over within 30 s").isLessThan(TimeUnit.SECONDS.toNanos(30));
      Thread.sleep(250);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(seconds).isBetween(JobLeases.TTL.toSeconds() - 1.0, 30.0);
    assertThat(b.store().read(c -> Rows.findDb(c, "c", "app")).hwm()).isEqualTo(db.txid);
  }

  @Test
  void anInstanceThatLostItsLeaseCannotCommitAndItsObjectIsSweptLater() throws Exception {
    String url = TestMetadata.freshDatabase();
    Server a = instance("a", url), b = instance("b", url);
    TestDb db = new TestDb(512);
    for (int i = 0; i < 3; i++) client(a).writeTx("app", db.commit(Map.of(1, TestDb.fill(512, (char) ('a' + i))), 0));
    DbRow row = a.store().read(c -> Rows.findDb(c, "c", "app"));
    // a takes the lease, then pauses past it; b takes over.
    JobLeases.Held stale = a.jobs().leases().tryAcquire("c", "app");
    JobLeases.Held taken = null;
    while (taken == null) { // (a's renewal may slip in between: expire it again)
      a.store().write(c -> {
        try (Statement s = c.createStatement()) {
          s.executeUpdate("UPDATE leases SET expires_at = 0");
        }
        return null;
      });
      taken = b.jobs().leases().tryAcquire("c", "app");
    }
    try (JobLeases.Held current = taken) {
      assertThat(current.lease().epoch()).isEqualTo(stale.lease().epoch() + 1);
      // a wakes up and stores the file it was about to store: the object lands, its catalogue row does not.
      TestDb next = new TestDb(512);
      for (int i = 0; i < 3; i++) next.commit(Map.of(1, TestDb.fill(512, (char) ('a' + i))), 0);
      byte[] file = next.commit(Map.of(1, TestDb.fill(512, 'z')), 0);
      LtxFileInfo info = LtxDecoder.verify(new ByteArrayInputStream(file));
      CataloguedReplicaClient catalogue = a.jobs().catalogue(row);
      catalogue.fence(stale.lease());
      assertThatThrownBy(() -> catalogue.writeFile(1, info, new ByteArrayInputStream(file), file.length))
          .isInstanceOf(Lease.LostException.class).hasMessageContaining("taken over");
      assertThat(catalogue.storage().listFiles(1)).extracting(LtxFileMeta::range).contains(new TxidRange(4, 4));
      assertThat(catalogue.listFiles(1)).isEmpty();
      assertThatThrownBy(() -> a.store().write(c -> {
        stale.lease().check(c);
        return null;
      })).isInstanceOf(Lease.LostException.class);
      // The same through the job's last transaction, where a flush catalogues its file: refused, nothing committed.
      LtxFileMeta stored = catalogue.storeObject(1, info, new ByteArrayInputStream(file), file.length);
      assertThatThrownBy(() -> stale.closeWith(c -> {
        catalogue.catalogue(c, stored);
        return null;
      })).isInstanceOf(Lease.LostException.class);
      assertThat(catalogue.listFiles(1)).isEmpty();
    }
    stale.close(); // releasing a lost lease changes nothing
    assertThat(client(b).info("app", true).restorablePaths()).extracting(ServerClient.RestorePoint::maxTxid)
        .containsExactly(1L, 2L, 3L);
    // Younger than an hour, the orphan stays (its writer might be about to catalogue it); older, the daily job
    // sweeps it.
    b.scheduler().runLevel(Level.SNAPSHOT);
    Path orphan = dir.resolve("objects/c/app/1").resolve(new TxidRange(4, 4).fileName());
    assertThat(orphan).exists();
    Files.setLastModifiedTime(orphan, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
    b.scheduler().runLevel(Level.SNAPSHOT);
    assertThat(orphan).doesNotExist();
    assertThat(client(a).snapshotBytes("app", "sqlite")).isEqualTo(db.bytes());
  }

  @Test
  void aKilledInstanceLosesNoAcknowledgedUploadAndTheOtherCarriesOn() throws Exception {
    String url = TestMetadata.freshDatabase();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process killed = ServerProcess.launch(dir.resolve("killed"), port, url, dir.resolve("objects").toString());
    Server survivor = instance("survivor", url);
    String[] endpoints = {"http://127.0.0.1:" + port, survivor.localUrl()};
    int dbs = 4;
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean killedNow = new AtomicBoolean();
    Map<Integer, TestDb> local = new ConcurrentHashMap<>();
    Map<Integer, Long> acked = new ConcurrentHashMap<>();
    AtomicInteger failures = new AtomicInteger();
    List<Thread> writers = new ArrayList<>();
    for (int d = 0; d < dbs; d++) {
      int id = d;
      writers.add(Thread.ofVirtual().start(() -> {
        TestDb db = new TestDb(4096);
        local.put(id, db);
        Random rnd = new Random(id);
        byte[] pending = null;
        while (!stop.get() || pending != null) { // the last upload is sent until it is acknowledged
          if (pending == null) {
            Map<Integer, byte[]> changes = new TreeMap<>();
            int commit = Math.max(1, db.commit + rnd.nextInt(3) - 1);
            for (int p = 1; p <= commit; p++) {
              if (p > db.commit || rnd.nextInt(3) == 0) {
                byte[] b = new byte[4096];
                rnd.nextBytes(b);
                changes.put(p, b);
              }
            }
            pending = db.commit(changes, commit, 0);
          }
          // Before the kill, half the requests go to the instance that will die.
          String endpoint = endpoints[killedNow.get() ? 1 : rnd.nextInt(2)];
          try {
            ServerClient.forCluster(endpoint, "c", null).writeTx("db" + id, pending);
            acked.put(id, db.txid);
            pending = null;
          } catch (ServerException e) {
            if (e.code().equals("EPOSMISMATCH") && e.pos().equals(db.pos())) {
              acked.put(id, db.txid); // it was applied, the answer was lost with the instance
              pending = null;
            } else {
              failures.incrementAndGet();
            }
          } catch (IOException e) {
            failures.incrementAndGet(); // connection refused or reset: send it again
          }
        }
      }));
    }
    Thread.sleep(3000 + new Random().nextInt(2000));
    killed.destroyForcibly(); // SIGKILL
    killed.waitFor(30, TimeUnit.SECONDS);
    long killedAt = System.nanoTime();
    killedNow.set(true);
    Thread.sleep(1500);
    stop.set(true);
    for (Thread t : writers) t.join();
    // The survivor's flushes take every database to its newest TXID (after the dead instance's leases expire).
    clock.advance(Duration.ofSeconds(10));
    while (true) {
      survivor.scheduler().runLevel(1);
      boolean done = true;
      for (int d = 0; d < dbs; d++) {
        int id = d;
        DbRow row = survivor.store().read(c -> Rows.findDb(c, "c", "db" + id));
        if (row.hwm() != local.get(d).txid) done = false;
      }
      if (done) break;
      assertThat(System.nanoTime() - killedAt).as("jobs taken over within 30 s").isLessThan(TimeUnit.SECONDS.toNanos(30));
      Thread.sleep(250);
    }
    for (int d = 0; d < dbs; d++) {
      TestDb db = local.get(d);
      assertThat(acked.get(d)).as("db%d acknowledged everything it sent", d).isEqualTo(db.txid);
      assertThat(client(survivor).positions().get("db" + d)).isEqualTo(db.pos());
      assertThat(client(survivor).snapshotBytes("db" + d, "sqlite")).as("db%d", d).isEqualTo(db.bytes());
    }
  }

  @Test
  void postgresGoingAwayCosts503sNeverData() throws Exception {
    try (LocalPostgres pg = LocalPostgres.start()) {
      Server s = instance("a", pg.createDatabase("outage"));
      TestDb db = new TestDb(512);
      AtomicBoolean stop = new AtomicBoolean();
      List<String> codes = java.util.Collections.synchronizedList(new ArrayList<>());
      long[] acked = new long[1];
      Thread writer = Thread.ofVirtual().start(() -> {
        byte[] pending = null;
        int n = 0;
        while (!stop.get()) {
          if (pending == null) pending = db.commit(Map.of(1 + n % 8, TestDb.fill(512, (char) ('a' + n++ % 26))), 0);
          try {
            client(s).writeTx("app", pending);
            acked[0] = db.txid;
            pending = null;
          } catch (ServerException e) {
            codes.add(e.code());
            if (e.code().equals("EPOSMISMATCH") && e.pos().equals(db.pos())) {
              acked[0] = db.txid; // committed just before PostgreSQL went away, answered 503
              pending = null;
            }
            sleep(100);
          } catch (IOException e) {
            codes.add(e.getMessage());
            sleep(100);
          }
        }
      });
      Thread.sleep(1000);
      pg.kill9();
      Thread.sleep(1500);
      pg.restart();
      long back = System.nanoTime();
      long before = acked[0];
      while (acked[0] <= before + 5) {
        assertThat(System.nanoTime() - back).as("uploads succeed again by themselves").isLessThan(TimeUnit.SECONDS
            .toNanos(30));
        Thread.sleep(100);
      }
      stop.set(true);
      writer.join();
      assertThat(codes).as("PostgreSQL's outage is answered 503 EUNAVAILABLE").contains("EUNAVAILABLE")
          .allMatch(c -> c.equals("EUNAVAILABLE") || c.equals("EPOSMISMATCH"));
      assertThat(acked[0]).isEqualTo(db.txid);
      assertThat(client(s).positions().get("app")).isEqualTo(db.pos());
      assertThat(client(s).snapshotBytes("app", "sqlite")).isEqualTo(db.bytes());
      open.remove(s);
      s.close();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aSchemaNewerThanTheBinaryIsRefusedAndCheckSaysSo() throws Exception {
    String url = TestMetadata.freshDatabase();
    Server first = instance("a", url);
    open.remove(first);
    first.close();
    assertThat(PostgresMetadataStore.check(url)).contains("schema version 2 (current)");
    String jdbc = url.replace("postgres://postgres@", "jdbc:postgresql://") + "?user=postgres";
    try (Connection c = DriverManager.getConnection(jdbc); Statement s = c.createStatement()) {
      s.executeUpdate("INSERT INTO strata_schema_history (installed_rank, version, description, type, script,"
          + " checksum, installed_by, installed_on, execution_time, success) VALUES (99, '3', 'future', 'SQL',"
          + " 'V3__future.sql', 0, 'someone', now(), 0, true)");
    }
    assertThatThrownBy(() -> PostgresMetadataStore.open(url)).hasMessageContaining("newer than this server knows");
    assertThatThrownBy(() -> PostgresMetadataStore.check(url)).hasMessageContaining("newer than this server knows");
  }

  @Test
  void aSecondInstanceOnTheSameDataDirectoryIsRefused() throws Exception {
    instance("a", null);
    assertThatThrownBy(() -> instance("a", null)).isInstanceOf(IOException.class)
        .hasMessageContaining("in use by another strata serve");
  }

  @Test
  void anUnreachableMetadataDatabaseIsAOneLineError() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String url = "postgres://strata:secret@127.0.0.1:" + port + "/strata";
    assertThatThrownBy(() -> instance("x", url)).isInstanceOf(IOException.class)
        .hasMessageContaining("unreachable").hasMessageNotContaining("secret").hasMessageNotContaining("\n");
    try (Stream<Path> left = Files.list(dir.resolve("x"))) {
      assertThat(left.map(p -> p.getFileName().toString())).doesNotContain("server.db");
    }
  }
}
