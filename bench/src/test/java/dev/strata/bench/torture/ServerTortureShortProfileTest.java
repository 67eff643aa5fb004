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
    ServerTortureOptions opt = ServerTortureOptions.defaults(SEED).with(b -> {
      b.maxCycles = 5;
      b.databases = 3;
      b.faults = EnumSet.of(ServerFault.KILL9_UPLOAD, ServerFault.KILL9_COMPACTION, ServerFault.STORAGE_ERRORS,
          ServerFault.STALE_POSITION, ServerFault.RESTORE_LIVE);
      b.burstsPerDay = 8;
      b.workDir = Path.of("target", "torture-server-short").toAbsolutePath();
    });
    ServerTally tally = Torture.runServer(opt, System.out);
    List<String> findings = tally.findings.stream()
        .map(f -> f.problem() + " db " + f.db() + ", " + f.when() + ": " + f.detail()).toList();
    assertThat(findings).as("server torture findings (seed %d)", SEED).isEmpty();
    assertThat(tally.cycles).isEqualTo(5);
    assertThat(tally.faults.keySet()).containsAll(opt.faults());
    assertThat(tally.exportsVerified()).isGreaterThan(5 * opt.databases());
    assertThat(tally.pointsChecked()).isGreaterThan(100);
  }

  /**
   * Disabled until the server bug it finds is fixed: with seed 20261203, cycle 1 (restore-live by time over HTTP)
   * gets POST /db/restore on one instance answered TXID 0x14 while an upload ending at TXID 0x14 was acknowledged
   * at the same moment by the other instance (POINT finding: a restore and an upload on two instances both take
   * the next TXID).
   */
  @Test
  void twoInstancesOnPostgresFindNothingUnknown() throws Exception {
    ServerTortureOptions opt = ServerTortureOptions.defaults(SEED).with(b -> {
      b.maxCycles = 5;
      b.databases = 3;
      b.instances = 2;
      b.metadata = "postgres";
      b.faults = EnumSet.of(ServerFault.KILL9_UPLOAD, ServerFault.KILL9_COMPACTION, ServerFault.KILL9_POSTGRES,
          ServerFault.STALE_POSITION, ServerFault.RESTORE_LIVE);
      b.weeks = 0;
      b.workDir = Path.of("target", "torture-server-short-pg").toAbsolutePath();
    });
    ServerTally tally = Torture.runServer(opt, System.out);
    List<String> findings = tally.findings.stream()
        .map(f -> f.problem() + " db " + f.db() + ", " + f.when() + ": " + f.detail()).toList();
    assertThat(findings).as("server torture findings, 2 instances on PostgreSQL (seed %d)", SEED).isEmpty();
    assertThat(tally.cycles).isEqualTo(5);
    assertThat(tally.faults.keySet()).containsAll(opt.faults());
    assertThat(tally.exportsVerified()).isGreaterThan(5 * opt.databases());
    assertThat(tally.points).containsKey("listings and positions compared across instances");
  }
}
