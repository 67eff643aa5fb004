package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.testing.FaultProxy;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.sftp.common.SftpConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code strata sync} and {@code strata status} against a real {@code strata replicate} (a child JVM) with a
 * 10-minute sync interval: a plain wait forces nothing and times out (exit 1), {@code --now} makes the commits
 * durable and prints their TXID, and no agent is exit 2.
 */
class SyncCommandTest {
  @TempDir Path dir;

  record Out(int code, String out, String err) {}

  static Out run(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Out(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8).trim());
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * One replica of each kind: a directory, S3 (S3Proxy storing its objects under {@code s3/}, behind a {@link
   * FaultProxy}) and SFTP. {@code storage} is where the replica's files land on this machine, to look at them;
   * {@code stall} makes the replica's next upload hang until the client's 3-s timeout gives up on it (null for a
   * directory: the file client has no fault hook, and the tests run as root, whom read-only permissions don't stop).
   */
  record Backend(String type, String url, Path storage, Runnable stall, AutoCloseable server)
      implements AutoCloseable {
    @Override
    public void close() throws Exception {
      if (server != null) server.close();
    }
  }

  Backend backend(String type) throws Exception {
    return switch (type) {
      case "file" -> new Backend(type, dir.resolve("replica").toString(), dir.resolve("replica"), null, null);
      case "s3" -> {
        S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3"));
        FaultProxy proxy = FaultProxy.start(s3.port());
        yield new Backend(type, s3.url("app", proxy.port()) + "&timeout=3s",
            dir.resolve("s3").resolve(S3ProxyServer.BUCKET).resolve("app"),
            () -> proxy.schedule(FaultProxy.firstN("PUT", 1, FaultProxy.Fault.STALL)), () -> {
              try (s3) {
                proxy.close();
              }
            });
      }
      case "sftp" -> {
        SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"));
        yield new Backend(type, sftp.url("/backups/app") + "&timeout=3s",
            dir.resolve("sftp").resolve("backups").resolve("app"),
            () -> sftp.stallOnNextRequest(SftpConstants.SSH_FXP_WRITE), sftp);
      }
      default -> throw new IllegalArgumentException(type);
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"file", "s3", "sftp"})
  void syncWaitAndStatusTalkToTheRunningAgent(String type) throws Exception {
    Path db = dir.resolve("a.db");
    assertThat(run("sync", "--wait", db.toString()).code()).as("no agent").isEqualTo(2);
    ReplicateCommandTest.sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    try (Backend backend = backend(type)) {
      Path replica = backend.storage();
      Process p = ReplicateCommandTest.launch(dir, "replicate", "-sync-interval", "10m", db.toString(), backend.url());
      try {
        ReplicateCommandTest.awaitFile(replica.resolve("9"));
        for (int i = 0; i < 100 && !Files.exists(dir.resolve(".a.db-strata.sock")); i++) Thread.sleep(100);
        // the pass the agent runs at start is over (on a busy machine it could come after the insert below)
        assertThat(run("sync", "--wait", "--now", "--timeout", "30s", db.toString()).code()).isZero();
        ReplicateCommandTest.sqlite(db, "INSERT INTO t(v) VALUES ('x')");

        Out waited = run("sync", "--wait", "--timeout", "1s", db.toString());
        assertThat(waited.code()).as(waited.err()).isEqualTo(1); // the next regular pass is 10 minutes away
        assertThat(waited.err()).startsWith("strata: ").contains("not durable").doesNotContain("\n");
        assertThat(ControlServerFiles.maxTxid(replica)).as("nothing uploaded while waiting").isEqualTo(1);

        Out now = run("sync", "--wait", "--now", "--timeout", "30s", db.toString());
        assertThat(now.code()).as(now.err()).isZero();
        assertThat(now.out()).isEqualTo("0000000000000002");
        assertThat(ControlServerFiles.maxTxid(replica)).isGreaterThanOrEqualTo(2);

        assertThat(run("sync", db.toString()).code()).isZero();
        Out status = run("status", db.toString());
        assertThat(status.code()).isZero();
        assertThat(status.out()).contains(db + ": TXID 0000000000000002",
            type + ": TXID 0000000000000002, 0 TXIDs behind");

        if (backend.stall() != null) {
          ReplicateCommandTest.sqlite(db, "INSERT INTO t(v) VALUES ('y')");
          backend.stall().run();
          Out stalled = run("sync", "--wait", "--now", "--timeout", "1s", db.toString());
          assertThat(stalled.code()).as(stalled.err()).isEqualTo(1);
          assertThat(stalled.err()).startsWith("strata: ").doesNotContain("\n")
              .contains("TXID 0000000000000003 not durable", "(behind: " + type + " at 0000000000000002)");
          Out caughtUp = run("sync", "--wait", "--now", "--timeout", "30s", db.toString());
          assertThat(caughtUp.code()).as(caughtUp.err()).isZero();
          assertThat(caughtUp.out()).isEqualTo("0000000000000003");
          assertThat(ControlServerFiles.maxTxid(replica)).isGreaterThanOrEqualTo(3);
        }
      } finally {
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(p.exitValue()).as(Files.readString(dir.resolve("strata.log"))).isZero();
    }
  }

  /**
   * A config with {@code addr:} and {@code control:}: {@code strata sync -config} and {@code strata status -config}
   * find a socket at the configured path, a database with {@code control: off} has none (and says so), and
   * {@code POST /sync} and {@code GET /status} on {@code addr:} answer for both databases.
   */
  @Test
  void controlPathsFromTheConfigAndSyncOverHttp() throws Exception {
    Path a = dir.resolve("a.db"), b = dir.resolve("b.db");
    for (Path db : List.of(a, b)) {
      ReplicateCommandTest.sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    }
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path socket = dir.resolve("run").resolve("a.sock");
    Path yml = dir.resolve("strata.yml");
    Files.writeString(yml, """
        addr: "127.0.0.1:%d"
        sync-interval: 10m
        dbs:
          - path: %s
            control: %s
            replica: {path: %s}
          - path: %s
            control: off
            replica: {path: %s}
        """.formatted(port, a, socket, dir.resolve("ra"), b, dir.resolve("rb")));
    Process p = ReplicateCommandTest.launch(dir, "replicate", "-config", yml.toString());
    try {
      ReplicateCommandTest.awaitFile(dir.resolve("ra").resolve("9"));
      ReplicateCommandTest.awaitFile(dir.resolve("rb").resolve("9"));
      for (int i = 0; i < 100 && !Files.exists(socket); i++) Thread.sleep(100);
      assertThat(socket).exists();
      assertThat(dir.resolve(".a.db-strata.sock")).doesNotExist();
      assertThat(dir.resolve(".b.db-strata.sock")).doesNotExist();

      ReplicateCommandTest.sqlite(a, "INSERT INTO t(v) VALUES ('x')");
      Out synced = run("sync", "-config", yml.toString(), "--wait", "--now", "--timeout", "30s", a.toString());
      assertThat(synced.code()).as(synced.err()).isZero();
      assertThat(synced.out()).isEqualTo("0000000000000002");
      assertThat(ControlServerFiles.maxTxid(dir.resolve("ra"))).isGreaterThanOrEqualTo(2);
      assertThat(run("sync", a.toString()).err()).as("not the default socket").contains("no strata replicate answers");

      Out off = run("sync", "-config", yml.toString(), b.toString());
      assertThat(off.code()).isEqualTo(2);
      assertThat(off.err()).startsWith("strata: ").contains("control: off").doesNotContain("\n");
      assertThat(run("sync", "-config", yml.toString()).err()).contains("lists 2 databases: give one");
      Out status = run("status", "-config", yml.toString());
      assertThat(status.code()).isEqualTo(2); // b has no socket
      assertThat(status.out()).contains(a + ": TXID 0000000000000002", "file: TXID 0000000000000002, 0 TXIDs behind",
          b + ": its control socket is turned off");

      ReplicateCommandTest.sqlite(b, "INSERT INTO t(v) VALUES ('y')");
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + port;
      HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(base + "/sync?db="
              + URLEncoder.encode(b.toString(), StandardCharsets.UTF_8) + "&wait=true&now=true&timeout=30s"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
      assertThat(posted.body().strip()).isEqualTo("{\"db\":\"" + b + "\",\"txid\":\"0000000000000002\","
          + "\"replicas\":{\"file\":\"0000000000000002\"}}");
      assertThat(ControlServerFiles.maxTxid(dir.resolve("rb"))).isGreaterThanOrEqualTo(2);
      HttpResponse<String> status2 = http.send(HttpRequest.newBuilder(URI.create(base + "/status")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(status2.statusCode()).isEqualTo(200);
      assertThat(status2.body()).contains("\"db\":\"" + a + "\"", "\"db\":\"" + b + "\"",
          "\"file\":{\"txid\":\"0000000000000002\",\"lag\":0");
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("strata.log"))).isZero();
    assertThat(socket).doesNotExist();
  }

  /** Level-0 and level-9 file names of a directory replica. */
  static final class ControlServerFiles {
    static long maxTxid(Path replica) throws IOException {
      long max = 0;
      for (String level : List.of("0", "9")) {
        Path d = replica.resolve(level);
        if (!Files.isDirectory(d)) continue;
        try (var s = Files.list(d)) {
          for (Path f : s.toList()) {
            String n = f.getFileName().toString();
            if (n.endsWith(".ltx")) max = Math.max(max, Long.parseUnsignedLong(n.substring(17, 33), 16));
          }
        }
      }
      return max;
    }
  }
}
