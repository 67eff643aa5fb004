package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.strata.server.Server;
import dev.strata.server.ServerConfig;
import dev.strata.server.Tokens;
import dev.strata.server.client.ServerClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** {@code strata cluster …} against a server in this JVM, and {@code strata serve}'s configuration. */
class ClusterCommandTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  @BeforeAll
  static void quietAccessLog() {
    // The server runs in this JVM and logs to the stderr the tests read as the CLI's.
    ((Logger) LoggerFactory.getLogger("dev.strata.server.access")).setLevel(Level.OFF);
  }

  static Run strata(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void importExportRestoreDelete() throws Exception {
    Path db = dir.resolve("a.db");
    Process p = new ProcessBuilder("sqlite3", db.toString(),
        "CREATE TABLE t(x); INSERT INTO t VALUES (1),(2),(3);").start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    ServerConfig cfg = ServerConfig.defaults(dir.resolve("data"))
        .withBind(new InetSocketAddress("127.0.0.1", 0)).withSchedule(false);
    try (Server server = Server.start(cfg)) {
      String e = server.localUrl();
      assertThat(strata("cluster", "import", "mydb", db.toString(), "-c", "c1", "-e", e).code()).isZero();
      Run list = strata("cluster", "-c", "c1", "-e", e, "list");
      assertThat(list.out()).contains("mydb      0000000000000001");
      Path out = dir.resolve("out.db");
      assertThat(strata("cluster", "export", "mydb", "-o", out.toString(), "-c", "c1", "-e", e).code()).isZero();
      assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(db));
      Path ltx = dir.resolve("out.ltx");
      assertThat(strata("cluster", "export", "mydb", "-f", "ltx", "-o", ltx.toString(), "-c", "c1", "-e", e).code())
          .isZero();
      assertThat(strata("ltx", "verify", ltx.toString()).code()).isZero();
      assertThat(strata("cluster", "restore", "mydb", "--txid=0000000000000001", "--check", "-c", "c1", "-e", e)
          .out()).startsWith("restore point: txid 0000000000000001 at ");
      Run ahead = strata("cluster", "restore", "mydb", "--txid=0000000000000009", "-c", "c1", "-e", e);
      assertThat(ahead.code()).isEqualTo(1);
      assertThat(ahead.err()).startsWith("strata: tx not available");
      assertThat(strata("cluster", "delete", "mydb", "-c", "c1", "-e", e).code()).isZero();
      Run gone = strata("cluster", "info", "mydb", "-c", "c1", "-e", e);
      assertThat(gone.err()).isEqualTo("strata: database not found\n");
      assertThat(strata("cluster", "list", "-e", e).err()).contains("cluster must be specified");
    }
  }

  @Test
  void exportNeverReplacesAFileOrFollowsALinkUnlessForced() throws Exception {
    Path db = dir.resolve("a.db");
    Process p = new ProcessBuilder("sqlite3", db.toString(), "CREATE TABLE t(x); INSERT INTO t VALUES (1);").start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    byte[] want = Files.readAllBytes(db);
    ServerConfig cfg = ServerConfig.defaults(dir.resolve("data"))
        .withBind(new InetSocketAddress("127.0.0.1", 0)).withSchedule(false);
    try (Server server = Server.start(cfg)) {
      String e = server.localUrl();
      assertThat(strata("cluster", "import", "mydb", db.toString(), "-c", "c1", "-e", e).code()).isZero();

      Path existing = Files.writeString(dir.resolve("existing.db"), "keep me");
      Run refused = strata("cluster", "export", "mydb", "-o", existing.toString(), "-c", "c1", "-e", e);
      assertThat(refused.code()).isEqualTo(1);
      assertThat(refused.err()).isEqualTo("strata: output file already exists: " + existing
          + " (use --force to replace it)\n");
      assertThat(Files.readString(existing)).isEqualTo("keep me");
      assertThat(strata("cluster", "export", "mydb", "-o", existing.toString(), "--force", "-c", "c1", "-e", e)
          .code()).isZero();
      assertThat(Files.readAllBytes(existing)).isEqualTo(want);

      // A link at the output path, even a dangling one, is refused; forced, the link itself is replaced.
      Path victim = Files.writeString(dir.resolve("victim"), "not yours");
      Path link = Files.createSymbolicLink(dir.resolve("link.db"), victim);
      Path dangling = Files.createSymbolicLink(dir.resolve("dangling.db"), dir.resolve("nothing-here"));
      for (Path out : List.of(link, dangling)) {
        for (String format : List.of("sqlite", "ltx")) {
          Run r = strata("cluster", "export", "mydb", "-f", format, "-o", out.toString(), "-c", "c1", "-e", e);
          assertThat(r.code()).as(r.err()).isEqualTo(1);
          assertThat(r.err()).contains("output file already exists: " + out);
        }
      }
      assertThat(Files.exists(dir.resolve("nothing-here"))).isFalse();
      assertThat(strata("cluster", "export", "mydb", "-o", link.toString(), "--force", "-c", "c1", "-e", e).code())
          .isZero();
      assertThat(Files.isSymbolicLink(link)).isFalse();
      assertThat(Files.readAllBytes(link)).isEqualTo(want);
      assertThat(Files.readString(victim)).isEqualTo("not yours");

      // The temporary name is <out>.tmp: a link planted there is removed, not written through.
      Path fresh = dir.resolve("fresh.db");
      Files.createSymbolicLink(dir.resolve("fresh.db.tmp"), victim);
      assertThat(strata("cluster", "export", "mydb", "-o", fresh.toString(), "-c", "c1", "-e", e).code()).isZero();
      assertThat(Files.readAllBytes(fresh)).isEqualTo(want);
      assertThat(Files.readString(victim)).isEqualTo("not yours");
      assertThat(dir.resolve("fresh.db.tmp")).doesNotExist();

      // As for a restore: a SQLite file's leftover -wal would be replayed onto the export.
      Path withWal = dir.resolve("wal.db");
      Files.writeString(dir.resolve("wal.db-wal"), "stale");
      Run wal = strata("cluster", "export", "mydb", "-o", withWal.toString(), "-c", "c1", "-e", e);
      assertThat(wal.err()).contains("output file already exists: " + withWal + "-wal");
      assertThat(strata("cluster", "export", "mydb", "-o", withWal.toString(), "--force", "-c", "c1", "-e", e)
          .code()).isZero();
      assertThat(dir.resolve("wal.db-wal")).doesNotExist();
      try (var files = Files.list(dir)) {
        assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
      }
    }
  }

  @Test
  void infoShowsTheLiteFsClusterId() throws Exception {
    Path db = dir.resolve("a.db");
    Process p = new ProcessBuilder("sqlite3", db.toString(), "CREATE TABLE t(x);").start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    ServerConfig cfg = ServerConfig.defaults(dir.resolve("data"))
        .withBind(new InetSocketAddress("127.0.0.1", 0)).withSchedule(false);
    try (Server server = Server.start(cfg)) {
      String e = server.localUrl();
      assertThat(strata("cluster", "import", "mydb", db.toString(), "-c", "c1", "-e", e).code()).isZero();
      assertThat(strata("cluster", "info", "mydb", "-c", "c1", "-e", e).out())
          .contains("database: mydb\nlitefs cluster id: none recorded\n");
      ServerClient.forCluster(e, "c1", null).withClusterId("LFSC25AD000F32ED02A9").positions();
      assertThat(strata("cluster", "info", "mydb", "-c", "c1", "-e", e).out())
          .contains("database: mydb\nlitefs cluster id: LFSC25AD000F32ED02A9\n");
    }
  }

  @Test
  void serveReadsLitefsBackupEnvironment() throws Exception {
    ServeCommand cmd = new ServeCommand();
    ServerConfig cfg = cmd.config(Map.of("LFSB_DATA_PATH", dir.toString(), "LFSB_BIND", "127.0.0.1:2299",
        "BUCKET_NAME", "backups", "AWS_ENDPOINT_URL_S3", "http://minio:9000", "AWS_REGION", "auto",
        "AWS_ACCESS_KEY", "AK", "AWS_SECRET_KEY", "S/K+", "STRATA_TOKENS", "c1:t1"));
    assertThat(cfg.dataDir()).isEqualTo(dir);
    assertThat(cfg.bind().getPort()).isEqualTo(2299);
    assertThat(cfg.replicaUrl()).isEqualTo("s3://backups?endpoint=http%3A%2F%2Fminio%3A9000&force-path-style=true"
        + "&region=auto&access-key-id=AK&secret-access-key=S%2FK%2B");
    assertThat(cfg.tokens().enabled()).isTrue();
    assertThat(new ServeCommand().config(Map.of("LFSB_DATA_PATH", dir.toString())).replicaUrl()).isNull();
  }

  @Test
  void serveRefusesATokensOptionThatGivesNoToken() throws Exception {
    String data = dir.resolve("data").toString();
    for (String text : List.of("", "\n\n", "# prod:abc\n  # nobody yet\n")) {
      Path file = Files.writeString(dir.resolve("tokens"), text);
      // Before the fix this started a server without authentication and never returned.
      Run r = assertTimeoutPreemptively(Duration.ofSeconds(30),
          () -> strata("serve", "--data", data, "--bind", "127.0.0.1:0", "--tokens-file", file.toString()));
      assertThat(r.code()).as(r.err()).isEqualTo(1);
      assertThat(r.err()).isEqualTo("strata: tokens file " + file + " holds no CLUSTER:TOKEN entry; refusing to "
          + "start without authentication\n");
    }
    for (String env : List.of("", " ", "#prod:abc", ",", "\n# none\n")) {
      assertThatThrownBy(() -> new ServeCommand().config(Map.of("LFSB_DATA_PATH", data, "STRATA_TOKENS", env)))
          .as("STRATA_TOKENS=%s", env)
          .hasMessage("STRATA_TOKENS holds no CLUSTER:TOKEN entry; refusing to start without authentication");
    }
  }

  @Test
  void serveStoresInTheBucketTheEnvironmentNames() throws Exception {
    try (var s3 = dev.strata.replica.testing.S3ProxyServer.start(dir.resolve("s3"))) {
      ServerConfig cfg = new ServeCommand().config(Map.of("LFSB_DATA_PATH", dir.resolve("data").toString(),
          "LFSB_BIND", "127.0.0.1:0", "BUCKET_NAME", dev.strata.replica.testing.S3ProxyServer.BUCKET,
          "AWS_ENDPOINT_URL_S3", s3.endpoint().toString(), "AWS_REGION", "us-east-1",
          "AWS_ACCESS_KEY", dev.strata.replica.testing.S3ProxyServer.ACCESS_KEY,
          "AWS_SECRET_KEY", dev.strata.replica.testing.S3ProxyServer.SECRET_KEY)).withSchedule(false);
      Path db = dir.resolve("a.db");
      Process p = new ProcessBuilder("sqlite3", db.toString(), "CREATE TABLE t(x); INSERT INTO t VALUES (1);").start();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      try (Server server = Server.start(cfg)) {
        assertThat(strata("cluster", "import", "mydb", db.toString(), "-c", "c1", "-e", server.localUrl()).code())
            .isZero();
        server.scheduler().runLevel(1);
        assertThat(server.storage().location()).startsWith("s3://strata");
        assertThat(server.storage().child("c1").child("mydb").listFiles(1)).hasSize(1);
      }
    }
  }
}
