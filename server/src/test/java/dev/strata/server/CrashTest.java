package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Pos;
import dev.strata.server.client.ServerClient;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a server process in the middle of uploads: after a restart every acknowledged upload is there, and
 * each database's state is exactly the one its position names.
 */
class CrashTest {
  @TempDir Path dir;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Process launch(Path data, int port) throws Exception {
    String metadata = TestMetadata.urlFor(data);
    return ServerProcess.launch(data, port, metadata == null ? "" : metadata);
  }

  @Test
  void acknowledgedUploadsSurviveKill9() throws Exception {
    Path data = dir.resolve("data");
    int port = freePort();
    Process server = launch(data, port);
    String url = "http://127.0.0.1:" + port;
    int dbs = 4;
    // Per database: the state after each TXID, and the highest TXID the server acknowledged.
    List<Map<Long, byte[]>> states = new ArrayList<>();
    Map<Integer, Long> acked = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> writers = new ArrayList<>();
    for (int d = 0; d < dbs; d++) {
      Map<Long, byte[]> mine = new ConcurrentHashMap<>();
      states.add(mine);
      int id = d;
      writers.add(Thread.ofVirtual().start(() -> {
        ServerClient client = ServerClient.forCluster(url, "crash", null);
        TestDb db = new TestDb(4096);
        Random rnd = new Random(id);
        while (!stop.get()) {
          Map<Integer, byte[]> changes = new TreeMap<>();
          int commit = Math.max(1, db.commit + rnd.nextInt(3) - 1);
          for (int p = 1; p <= commit; p++) {
            if (p > db.commit || rnd.nextInt(3) == 0) {
              byte[] b = new byte[4096];
              rnd.nextBytes(b);
              changes.put(p, b);
            }
          }
          byte[] file = db.commit(changes, commit, 0);
          mine.put(db.txid, db.bytes());
          try {
            client.writeTx("db" + id, file);
            acked.put(id, db.txid);
          } catch (Exception e) {
            return; // the server is gone
          }
        }
      }));
    }
    Thread.sleep(1500 + new Random().nextInt(1500));
    server.destroyForcibly(); // SIGKILL
    server.waitFor(30, TimeUnit.SECONDS);
    stop.set(true);
    for (Thread t : writers) t.join();

    Process again = launch(data, port);
    try {
      ServerClient client = ServerClient.forCluster(url, "crash", null);
      Map<String, Pos> pos = client.positions();
      for (int d = 0; d < dbs; d++) {
        Long ack = acked.get(d);
        if (ack == null) continue;
        Pos p = pos.get("db" + d);
        assertThat(p).as("db%d present", d).isNotNull();
        assertThat(p.txid()).as("db%d keeps every acknowledged upload", d).isGreaterThanOrEqualTo(ack);
        assertThat(client.snapshotBytes("db" + d, "sqlite")).as("db%d state at its position", d)
            .isEqualTo(states.get(d).get(p.txid()));
      }
      assertThat(acked).isNotEmpty();
    } finally {
      again.destroyForcibly();
      again.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
