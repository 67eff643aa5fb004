package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.testing.AgeTestKeys;
import dev.strata.server.client.ServerClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata serve --age-recipient … --age-identity …}: storage holds only age files, and everything still works. */
class EncryptedStorageTest {
  @TempDir Path dir;

  @Test
  void everyStorageObjectIsAnAgeFileAndRestoresStillWork() throws Exception {
    AgeTestKeys keys = AgeTestKeys.create(dir.resolve("keys"), "server.txt");
    try (TestServer ts = new TestServer(dir.resolve("data"), cfg -> cfg.withAge(keys.keys()))) {
      ServerClient client = ts.client("prod");
      TestDb db = new TestDb(4096);
      Map<Long, byte[]> states = new TreeMap<>();
      for (int i = 0; i < 30; i++) {
        client.writeTx("app.db", db.commit(Map.of(1 + i % 5, TestDb.fill(4096, (char) ('a' + i % 26))), 0));
        states.put(db.txid, db.bytes());
        if (i % 10 == 9) {
          ts.clock.advance(Duration.ofMinutes(6));
          ts.compactAll();
        }
      }
      List<Path> objects;
      try (Stream<Path> s = Files.walk(dir.resolve("data/objects"))) {
        objects = s.filter(p -> p.toString().endsWith(".ltx")).toList();
      }
      assertThat(objects).isNotEmpty();
      for (Path p : objects) {
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(p), 22);
        assertThat(new String(head, StandardCharsets.US_ASCII)).as("%s", p).isEqualTo("age-encryption.org/v1\n");
      }
      // Every restore point, from storage or staging, rebuilds the state the client had.
      for (ServerClient.RestorePoint p : client.info("app.db", true).restorablePaths()) {
        assertThat(client.restoreCheck("app.db", p.maxTxid(), null).txid()).isEqualTo(p.maxTxid());
        assertThat(states).containsKey(p.maxTxid());
      }
      long point = client.info("app.db", true).restorablePaths().getFirst().maxTxid();
      client.restore("app.db", point, null);
      assertThat(client.snapshotBytes("app.db", "sqlite")).isEqualTo(states.get(point));
    }
  }
}
