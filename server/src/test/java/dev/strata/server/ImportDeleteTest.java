package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /db/upload} with databases written by the sqlite3 CLI, exports, and {@code DELETE /db}. */
class ImportDeleteTest {
  @TempDir Path dir;
  TestServer ts;
  ServerClient client;

  @BeforeEach
  void start() throws Exception {
    ts = new TestServer(dir.resolve("data"));
    client = ts.client("c1");
  }

  @AfterEach
  void stop() throws Exception {
    ts.close();
  }

  /** A database written by another process: the sqlite3 command-line shell. */
  private Path sqlite3(String name, int pageSize, int rows) throws Exception {
    Path db = dir.resolve(name);
    String sql = "PRAGMA page_size=" + pageSize + "; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
        + " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " + rows + ")"
        + " INSERT INTO t(v) SELECT hex(randomblob(100)) FROM n;";
    Process p = new ProcessBuilder("sqlite3", db.toString(), sql).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    return db;
  }

  @Test
  void importRoundTripsBytes() throws Exception {
    Path file = sqlite3("a.db", 4096, 2000);
    byte[] bytes = Files.readAllBytes(file);
    assertThat(client.upload("db", () -> new ByteArrayInputStream(bytes))).isEqualTo(1);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(bytes);
    LtxFileInfo ltx = LtxDecoder.verify(new ByteArrayInputStream(client.snapshotBytes("db", "ltx")));
    assertThat(ltx.header().commit()).isEqualTo(bytes.length / 4096);
    // Exported again through the sqlite3 shell, it is a valid database with the same rows.
    Path out = dir.resolve("export.db");
    Files.write(out, client.snapshotBytes("db", "sqlite"));
    Process p = new ProcessBuilder("sqlite3", out.toString(), "PRAGMA integrity_check; SELECT count(*) FROM t;")
        .start();
    assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("ok\n2000\n");
  }

  @Test
  void importIntoExistingDatabaseIsNextTransaction() throws Exception {
    byte[] a = Files.readAllBytes(sqlite3("a.db", 4096, 100));
    byte[] b = Files.readAllBytes(sqlite3("b.db", 4096, 3000));
    assertThat(client.upload("db", () -> new ByteArrayInputStream(a))).isEqualTo(1);
    assertThat(client.upload("db", () -> new ByteArrayInputStream(b))).isEqualTo(2);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(b);
    assertThat(client.restore("db", 1L, null)).isEqualTo(3);
    assertThat(client.snapshotBytes("db", "sqlite")).isEqualTo(a);
  }

  @Test
  void importRejectsPageSizeChangeAndBadHeaders() throws Exception {
    byte[] a = Files.readAllBytes(sqlite3("a.db", 4096, 10));
    byte[] b = Files.readAllBytes(sqlite3("b.db", 512, 10));
    client.upload("db", () -> new ByteArrayInputStream(a));
    assertThatThrownBy(() -> client.upload("db", () -> new ByteArrayInputStream(b)))
        .isInstanceOfSatisfying(ServerException.class, e -> {
          assertThat(e.status()).isEqualTo(422);
          assertThat(e.getMessage()).isEqualTo("page size mismatch");
        });
    for (byte[] bad : new byte[][] {new byte[0], "SQLite format 3".getBytes(), new byte[4096]}) {
      assertThatThrownBy(() -> client.upload("db2", () -> new ByteArrayInputStream(bad)))
          .isInstanceOfSatisfying(ServerException.class, e -> {
            assertThat(e.status()).isEqualTo(422);
            assertThat(e.getMessage()).isEqualTo("invalid database header");
          });
    }
    byte[] cut = java.util.Arrays.copyOf(a, a.length - 100);
    assertThatThrownBy(() -> client.upload("db2", () -> new ByteArrayInputStream(cut)))
        .isInstanceOfSatisfying(ServerException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.getMessage()).endsWith("unexpected EOF");
        });
    assertThat(client.positions()).containsOnlyKeys("db");
  }

  @Test
  void deleteRemovesRowsAndStorage() throws Exception {
    TestDb db = new TestDb(512);
    client.writeTx("db", db.commit(Map.of(1, db.fill('1')), ts.clock.millis()));
    ts.compactAll();
    client.writeTx("other", new TestDb(512).commit(Map.of(1, db.fill('o')), 0));
    for (int level : new int[] {1, 2, 3, 9}) {
      assertThat(ts.server.jobs().storage("c1", "db").listFiles(level)).hasSize(1);
    }
    client.delete("db");
    for (int level = 1; level <= 9; level++) {
      assertThat(ts.server.jobs().storage("c1", "db").listFiles(level)).isEmpty();
    }
    assertThat(client.positions()).containsOnlyKeys("other");
    assertThatThrownBy(() -> client.delete("db")).isInstanceOfSatisfying(ServerException.class,
        e -> assertThat(e.code()).isEqualTo("ENODB"));
    assertThatThrownBy(() -> client.snapshotBytes("db", null)).isInstanceOfSatisfying(ServerException.class,
        e -> assertThat(e.code()).isEqualTo("ENODB"));
    // Gone for good, and the name can be used again from scratch.
    ts.close();
    ts = new TestServer(dir.resolve("data"));
    client = ts.client("c1");
    assertThat(client.positions()).containsOnlyKeys("other");
    TestDb again = new TestDb(512);
    client.writeTx("db", again.commit(Map.of(1, again.fill('n')), ts.clock.millis()));
    ts.compactAll();
    assertThat(ts.server.jobs().storage("c1", "db").listFiles(1)).extracting(f -> f.maxTxid())
        .containsExactly(1L);
    assertThat(Checksum.format(client.positions().get("db").postApplyChecksum()))
        .isEqualTo(Checksum.format(again.checksum));
  }

  @Test
  void deleteAlsoAcceptsTrailingSlash() throws Exception {
    client.writeTx("db", new TestDb(512).commit(Map.of(1, TestDb.fill(512, '1')), 0));
    assertThat(ts.raw("DELETE", "/db/?db=db", "cluster c1", null).statusCode()).isEqualTo(200);
    assertThat(client.positions()).isEmpty();
  }
}
