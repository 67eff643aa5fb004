package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.LtxHeader;
import dev.strata.replica.testing.LocalPostgres;
import dev.strata.server.store.AppendTx;
import dev.strata.server.store.DbState;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.Rows;
import dev.strata.server.store.SpooledLtx;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads arriving together on PostgreSQL are written several to a transaction: every database ends where its
 * client is, an upload refused (a position that is not the database's, a wrong post-apply checksum) fails alone
 * while the others of its transaction commit, and a database's first upload (which creates it) still succeeds.
 */
class UploadBatchesTest {
  private static final int DATABASES = 48;
  private static final int UPLOADS = 12;

  @TempDir Path dir;

  @Test
  void concurrentUploadsAreBatchedAndEachGetsItsOwnAnswer() throws Exception {
    LocalPostgres pg = TestMetadata.postgres();
    String url = TestMetadata.freshLoggedDatabase();
    long logAt = Files.exists(pg.logFile()) ? Files.size(pg.logFile()) : 0;
    try (MetadataStore store = MetadataStore.open(url, dir)) {
      TestDb[] dbs = new TestDb[DATABASES];
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int d = 0; d < DATABASES; d++) {
        int n = d;
        dbs[d] = new TestDb(4096);
        threads.add(Thread.ofVirtual().start(() -> {
          try {
            go.await();
            TestDb db = dbs[n];
            for (int u = 0; u < UPLOADS; u++) {
              byte[] ltx = u == 0
                  ? db.commit(Map.of(1, db.fill('a'), 2, db.fill('a'), 3, db.fill('a'), 4, db.fill('a')), u)
                  : db.commit(Map.of(1 + u % 3, db.fill((char) ('a' + u)), 4, db.fill((char) ('A' + n % 26))), u);
              expect(store, "db" + n, ltx, null, failures);
              if (u % 4 == 1) expect(store, "db" + n, ltx, "EPOSMISMATCH", failures); // sent again: refused
              if (u % 4 == 2) { // the next transaction, claiming a database checksum it does not lead to
                byte[] bad = TestDb.encode(LtxHeader.of(db.flags, 4096, db.commit, db.txid + 1, db.txid + 1, u,
                    db.checksum), Map.of(2, db.fill('z')), db.checksum ^ 0x1234);
                expect(store, "db" + n, bad, "EBADCHECKSUM", failures);
              }
            }
          } catch (Exception e) {
            failures.add("db" + n + ": " + e);
          }
        }));
      }
      go.countDown();
      for (Thread t : threads) t.join();
      assertThat(failures).isEmpty();
      for (int d = 0; d < DATABASES; d++) {
        String name = "db" + d;
        DbState state = store.read(c -> Rows.findState(c, "c1", name));
        assertThat(state.pos()).as(name).isEqualTo(dbs[d].pos());
      }
    }
    String log = new String(Files.readAllBytes(pg.logFile()), StandardCharsets.UTF_8).substring((int) logAt);
    assertThat(log).as("some uploads were written several to a transaction").contains("FOR NO KEY UPDATE OF d");
  }

  @Test
  void anUploadWhoseDatabaseAnotherTransactionHoldsWaitsAloneWhileTheRestOfItsBatchCommits() throws Exception {
    try (MetadataStore store = MetadataStore.open(TestMetadata.freshDatabase(), dir)) {
      TestDb[] dbs = new TestDb[DATABASES];
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      for (int d = 0; d < DATABASES; d++) { // each database's first upload creates it
        dbs[d] = new TestDb(4096);
        TestDb db = dbs[d];
        expect(store, "db" + d, db.commit(Map.of(1, db.fill('a'), 2, db.fill('a')), 0), null, failures);
      }
      // Another transaction holds db3's row (as the other instance's batch or a flush would) until released.
      CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
      Thread holder = Thread.ofVirtual().start(() -> {
        try {
          store.write(c -> {
            try (var st = c.createStatement()) {
              st.execute("SELECT 1 FROM databases WHERE cluster = 'c1' AND name = 'db3' FOR NO KEY UPDATE");
            }
            held.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return null;
          });
        } catch (Exception e) {
          failures.add("holder: " + e);
        }
      });
      held.await();
      // Every database's next upload at once: they are written several to a transaction, and only db3's may wait.
      Set<String> done = ConcurrentHashMap.newKeySet();
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      try {
        for (int d = 0; d < DATABASES; d++) {
          String name = "db" + d;
          TestDb db = dbs[d];
          threads.add(Thread.ofVirtual().start(() -> {
            try {
              go.await();
              expect(store, name, db.commit(Map.of(2, db.fill('b')), 1), null, failures);
              done.add(name);
            } catch (Exception e) {
              failures.add(name + ": " + e);
            }
          }));
        }
        go.countDown();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (done.size() < DATABASES - 1 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(done).as("every upload but db3's, answered while db3's row is held").hasSize(DATABASES - 1)
            .doesNotContain("db3");
      } finally {
        release.countDown(); // also when the assertion fails: the uploads still waiting then end
        holder.join();
        for (Thread t : threads) t.join();
      }
      assertThat(failures).isEmpty();
      for (int d = 0; d < DATABASES; d++) {
        String name = "db" + d;
        assertThat(store.read(c -> Rows.findState(c, "c1", name)).pos()).as(name).isEqualTo(dbs[d].pos());
      }
    }
  }

  private void expect(MetadataStore store, String name, byte[] ltx, String codes,
      ConcurrentLinkedQueue<String> failures) throws Exception {
    SpooledLtx file;
    try {
      file = SpooledLtx.receive(new ByteArrayInputStream(ltx), dir);
    } catch (dev.strata.ltx.LtxException e) {
      failures.add(name + ": " + e);
      return;
    }
    try (file) {
      store.write(AppendTx.tx("c1", name, file, System.currentTimeMillis()));
      if (codes != null) failures.add(name + ": accepted, expected " + codes);
    } catch (ApiException e) {
      if (codes == null || !e.code().name().matches(codes)) failures.add(name + ": " + e.code() + " " + e.getMessage());
    }
  }
}
