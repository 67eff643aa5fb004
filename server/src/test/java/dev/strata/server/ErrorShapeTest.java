package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.ForwardingReplicaClient;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every error the server answers is the JSON error shape ({@code {"code":…,"error":…}}) and names no Java class;
 * the one exception is an unknown path, which keeps litefs-backup's plain-text 404.
 */
class ErrorShapeTest {
  @TempDir Path dir;

  @Test
  void aWrongMethodIsAJsonError() throws Exception {
    try (TestServer ts = new TestServer(dir)) {
      for (String[] c : new String[][] {{"GET", "/db/tx?db=db", "POST"}, {"POST", "/pos", "GET"},
          {"PUT", "/db?db=db", "DELETE"}, {"BREW", "/db/info?db=db", "GET"}}) {
        HttpResponse<byte[]> r = ts.raw(c[0], c[1], "cluster c1", c[0].equals("GET") ? null : new byte[1]);
        assertThat(r.statusCode()).as("%s %s", c[0], c[1]).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue(c[2]);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(new String(r.body(), StandardCharsets.UTF_8))
            .isEqualTo("{\"code\":\"EBADMETHOD\",\"error\":\"method not allowed\"}\n");
      }
      HttpResponse<byte[]> unknown = ts.raw("GET", "/nowhere", "cluster c1", null);
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(new String(unknown.body(), StandardCharsets.UTF_8)).isEqualTo("404 page not found\n");
    }
  }

  @Test
  void anInternalFailureNamesNoJavaClass() throws Exception {
    for (RuntimeException thrown : List.of(new IllegalStateException("dev.strata.Something broke"),
        new NullPointerException(), new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("/x")))) {
      ReplicaClient failing = new Failing(new FileReplicaClient(dir.resolve("objects-" + thrown.hashCode())), thrown);
      try (TestServer ts = new TestServer(dir.resolve("data-" + thrown.hashCode()), new dev.strata.replica.testing
          .FakeClock(java.time.Instant.now()), UnaryOperator.identity(), failing)) {
        ts.client("c1").writeTx("db", new TestDb(512).commit(Map.of(1, TestDb.fill(512, 'a')), 0));
        HttpResponse<byte[]> r = ts.raw("GET", "/db/info?db=db", "cluster c1", null);
        assertThat(r.statusCode()).as("%s", thrown).isEqualTo(500);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).as("%s", thrown)
            .isEqualTo("{\"code\":\"EINTERNAL\",\"error\":\"internal error\"}\n");
      }
    }
  }

  /** Storage whose listings fail with a given unchecked exception. */
  private static final class Failing extends ForwardingReplicaClient {
    private final RuntimeException thrown;

    Failing(ReplicaClient delegate, RuntimeException thrown) {
      super(delegate);
      this.thrown = thrown;
    }

    @Override
    public List<LtxFileMeta> listFiles(int level) throws IOException {
      throw thrown;
    }

    @Override
    protected ReplicaClient wrap(ReplicaClient child) {
      return new Failing(child, thrown);
    }
  }
}
