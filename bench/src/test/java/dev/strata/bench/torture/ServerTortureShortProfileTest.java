package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The short profile of the server torture harness, run by every {@code bin/test}: a fixed seed, three LiteFS-like
 * nodes pushing to a {@code strata serve} process on S3Proxy, five cycles with one fault each (kill -9 mid-upload,
 * kill -9 mid-compaction, S3 answering 5xx, stale uploads, a restore while the node writes), every export and
 * restore point checked against the oracle, then five simulated weeks of retention in-process. About two and a half
 * minutes. The other faults (SIGTERM, storage resets and stalls) run in the soak: bin/torture --server --duration 30m.
 * The report prints every finding; the build fails on any but the known server bugs listed below.
 *
 * <p>The multi-instance profile: two {@code strata serve} processes sharing a PostgreSQL (LocalPostgres, Debian's
 * binaries) and the S3 storage, the nodes sending each request to one of them at random, five cycles (kill -9 of one
 * instance mid-upload and mid-flush, kill -9 and restart of PostgreSQL, stale uploads, a live restore), no retention
 * phase. About a minute and a half. The soak: bin/torture --server --instances 2 --metadata postgres --duration 30m.
 */
class ServerTortureShortProfileTest {
  /** Changing the seed changes the schedule; keep it fixed so that a failure reproduces. */
  static final long SEED = 20261203L;

  @Test
  void shortProfileFindsNothingUnknown() throws Exception {
    ServerTally tally = run("torture-server-short", b -> {
      b.faults = EnumSet.of(ServerFault.KILL9_UPLOAD, ServerFault.KILL9_COMPACTION, ServerFault.STORAGE_ERRORS,
          ServerFault.STALE_POSITION, ServerFault.RESTORE_LIVE);
      b.burstsPerDay = 8;
    });
    assertThat(tally.pointsChecked()).isGreaterThan(100);
  }

  /** Two instances sharing a PostgreSQL database: the nodes' requests go to either; kill -9 of one, and of PostgreSQL. */
  @Test
  void twoInstancesOnPostgresFindNothingUnknown() throws Exception {
    ServerTally tally = run("torture-server-short-pg", b -> {
      b.instances = 2;
      b.metadata = "postgres";
      b.faults = EnumSet.of(ServerFault.KILL9_UPLOAD, ServerFault.KILL9_COMPACTION, ServerFault.KILL9_POSTGRES,
          ServerFault.STALE_POSITION, ServerFault.RESTORE_LIVE);
      b.weeks = 0;
    });
    assertThat(tally.points).containsKey("listings and positions compared across instances");
  }

  /** Five cycles over three databases with {@code profile}'s faults; no finding, every fault run, exports checked. */
  private static ServerTally run(String workDir, java.util.function.Consumer<ServerTortureOptions.Builder> profile)
      throws Exception {
    ServerTortureOptions opt = ServerTortureOptions.defaults(SEED).with(b -> {
      b.maxCycles = 5;
      b.databases = 3;
      b.workDir = Path.of("target", workDir).toAbsolutePath();
      profile.accept(b);
    });
    ServerTally tally = Torture.runServer(opt, System.out);
    List<String> findings = tally.findings.stream()
        .map(f -> f.problem() + " db " + f.db() + ", " + f.when() + ": " + f.detail()).toList();
    assertThat(findings).as("server torture findings (seed %d, %s)", SEED, workDir).isEmpty();
    assertThat(tally.cycles).isEqualTo(5);
    assertThat(tally.faults.keySet()).containsAll(opt.faults());
    assertThat(tally.exportsVerified()).isGreaterThan(5 * opt.databases());
    return tally;
  }
}
