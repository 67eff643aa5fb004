package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The access log: one line per request on the logger {@code dev.strata.server.access}, secrets left out. */
class AccessLogTest {
  @TempDir Path dir;

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger("dev.strata.server.access");
  private int read;

  @BeforeEach
  void capture() {
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO); // the tests' root level is WARN
    logger.setAdditive(false);
  }

  @AfterEach
  void release() {
    logger.detachAppender(appender);
    logger.setLevel(null);
    logger.setAdditive(true);
  }

  @Test
  void pushSnapshotConflictAndRefusalEachLeaveALine() throws Exception {
    try (TestServer ts = new TestServer(dir, c -> c.withTokens(Tokens.parse("prod:s3cret")))) {
      ServerClient client = ServerClient.forCluster(ts.url(), "prod", "s3cret");
      TestDb db = new TestDb(512);
      byte[] ltx = db.commit(Map.of(1, db.fill('a')), 0);

      client.writeTx("app.db", ltx);
      assertThat(next()).matches(
          "POST /db/tx cluster=prod db=app\\.db status=200 in=" + ltx.length + " out=0 ms=\\d+");

      byte[] snapshot = client.snapshotBytes("app.db", null);
      assertThat(next()).matches(
          "GET /db/snapshot cluster=prod db=app\\.db status=200 in=0 out=" + snapshot.length + " ms=\\d+");

      assertThatThrownBy(() -> client.writeTx("app.db", ltx)).isInstanceOf(ServerException.class);
      assertThat(next()).matches(
          "POST /db/tx cluster=prod db=app\\.db status=409 in=" + ltx.length + " out=\\d+ ms=\\d+ code=EPOSMISMATCH");

      assertThat(ts.raw("GET", "/pos", "cluster prod wrong-token", null).statusCode()).isEqualTo(401);
      assertThat(next()).matches("GET /pos cluster=- db=- status=401 in=0 out=\\d+ ms=\\d+ code=EINVALIDAUTH");

      assertThat(ts.raw("GET", "/nowhere?db=x", "Bearer s3cret", null).statusCode()).isEqualTo(404);
      assertThat(next()).matches("GET /nowhere cluster=prod db=x status=404 in=0 out=19 ms=\\d+");

      assertThat(ts.raw("GET", "/db/info?db=a%20b%22", "Bearer s3cret", null).statusCode()).isEqualTo(400);
      assertThat(next()).as("an odd name stays one quoted token")
          .matches("GET /db/info cluster=prod db=\"a b\\\\\"\" status=400 .* code=EBADDB");

      assertThat(lines()).hasSize(6).noneMatch(l -> l.contains("s3cret") || l.contains("wrong-token"));
    }
  }

  /** Waits for the next line: each is written once its response is closed, which the client may see first. */
  private String next() {
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> lines().size() > read);
    return lines().get(read++);
  }

  private List<String> lines() {
    synchronized (appender.list) {
      return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }
}
