package dev.strata.replica.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The test PostgreSQL is a real server: it answers psql, survives kill -9 with its data, and leaves nothing behind. */
class LocalPostgresTest {
  @Test
  void survivesKill9AndLeavesNoProcessAfterClose() throws Exception {
    LocalPostgres pg = LocalPostgres.start();
    List<ProcessHandle> started;
    try {
      int port = pg.port();
      assertThat(pg.url()).isEqualTo("postgres://postgres@127.0.0.1:" + port + "/postgres");
      assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
      assertThat(pg.createDatabase("fixture_test"))
          .isEqualTo("postgres://postgres@127.0.0.1:" + port + "/fixture_test");

      // The cluster's own psql, run as any test would run it.
      Process psql = new ProcessBuilder(pg.bindir().resolve("psql").toString(), "-X", "-A", "-t",
          "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "-d", "fixture_test", "-c", "select 1")
          .redirectErrorStream(true).start();
      String out = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(psql.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(psql.exitValue()).as(out).isZero();
      assertThat(out.strip()).isEqualTo("1");

      pg.psql("fixture_test", "create table t (k int primary key, v text); insert into t values (1, 'before kill')");
      List<ProcessHandle> servers = postgresProcesses();
      assertThat(servers).as("postmaster and its background processes").hasSizeGreaterThanOrEqualTo(3);

      pg.kill9();
      assertThat(pg.isRunning()).isFalse();
      assertThat(servers).allMatch(LocalPostgres::isGone, "killed");

      pg.restart(); // crash recovery on the same port and data
      assertThat(pg.port()).isEqualTo(port);
      assertThat(Files.readString(pg.logFile())).contains("not properly shut down; automatic recovery in progress");
      assertThat(pg.psql("fixture_test", "select k, v from t").strip()).isEqualTo("1|before kill");

      pg.psql("fixture_test", "insert into t values (2, 'before fast restart')");
      pg.restart(); // a fast shutdown, then a start
      assertThat(pg.psql("fixture_test", "select count(*) from t").strip()).isEqualTo("2");
      started = ProcessHandle.current().descendants().toList();
      assertThat(started).isNotEmpty();
    } finally {
      pg.close();
    }
    assertThat(started).allMatch(LocalPostgres::isGone, "ended by close()");
    assertThat(postgresProcesses()).isEmpty();
    assertThat(Files.exists(pg.dataDirectory().getParent())).isFalse();
  }

  /** This JVM's descendants running postgres (the postmaster and every backend; under runuser when root). */
  private static List<ProcessHandle> postgresProcesses() {
    return ProcessHandle.current().descendants()
        .filter(p -> !LocalPostgres.isGone(p))
        .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false))
        .toList();
  }
}
