package dev.strata.agent.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.testing.Sqlite;
import dev.strata.ltx.Txid;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket of a running monitor: {@code wait} returns once the commits made before it are in a level-0
 * file on the replicas (the file is there when it answers), times out cleanly naming a replica that is down, and
 * is satisfied by fewer replicas when asked; {@code sync} and {@code status}.
 */
class ControlServerTest {
  @TempDir Path dir;

  @Test
  void waitReturnsOnceDurableAndTimesOutOnAStalledReplica() throws Exception {
    TwoReplicas two = TwoReplicas.create(dir);
    Path db = two.db();
    var a = two.a();
    var b = two.b();
    try (DatabaseMonitor m = two.monitor();
        ControlServer control = ControlServer.start(List.of(m))) {
      m.start();
      Path sock = DatabaseSpec.defaultControlSocket(db);
      assertThat(sock).exists();

      // Read before the insert: the monitor's regular pass may capture the insert at any moment after it.
      long before = m.capture().txid();
      Sqlite.cli(db, "INSERT INTO t(v) VALUES ('one')");
      List<String> reply = ControlServer.request(sock, "wait 0 20000 0");
      assertThat(reply).hasSize(1);
      assertThat(reply.getFirst()).startsWith("ok ");
      long txid = Txid.parse(reply.getFirst().substring(3));
      assertThat(txid).isGreaterThan(before); // the insert, committed before the call, is in what it waited for
      for (Path r : List.of(dir.resolve("a"), dir.resolve("b"))) assertThat(maxTxidIn(r)).isGreaterThanOrEqualTo(txid);

      b.down = true;
      Sqlite.cli(db, "INSERT INTO t(v) VALUES ('two')");
      reply = ControlServer.request(sock, "wait 0 1500 1");
      assertThat(reply.getFirst()).startsWith("timeout ").contains("behind: b at");
      reply = ControlServer.request(sock, "wait 1 20000 0");
      assertThat(reply.getFirst()).startsWith("ok ");
      assertThat(maxTxidIn(dir.resolve("a"))).isGreaterThanOrEqualTo(Txid.parse(reply.getFirst().substring(3)));

      assertThat(ControlServer.request(sock, "status")).first().asString().startsWith("db ");
      assertThat(ControlServer.request(sock, "status"))
          .anyMatch(l -> l.startsWith("replica b ") && l.endsWith(" test replica is down"))
          .anyMatch(l -> l.startsWith("replica a "));
      assertThat(ControlServer.request(sock, "sync")).containsExactly("ok");
      assertThat(ControlServer.request(sock, "bogus").getFirst()).startsWith("error unknown request");
      b.down = false;
      m.stop();
    }
    assertThat(DatabaseSpec.defaultControlSocket(db)).doesNotExist();
  }

  /** The highest MaxTXID among a file replica's level-0 and level-9 files. */
  static long maxTxidIn(Path replica) throws Exception {
    long max = 0;
    for (String level : List.of("0", "9")) {
      Path d = replica.resolve(level);
      if (!Files.isDirectory(d)) continue;
      try (Stream<Path> s = Files.list(d)) {
        for (Path f : s.toList()) {
          String n = f.getFileName().toString();
          if (n.endsWith(".ltx")) max = Math.max(max, Long.parseUnsignedLong(n.substring(17, 33), 16));
        }
      }
    }
    return max;
  }
}
