package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The short profile of the torture harness, run by every {@code bin/test}: a fixed seed, all three backends at
 * once (and an age-encrypted directory replica), the faults that matter most once each (kill -9 also during start-up, the writer's checkpoints while strata
 * is down, the database replaced under it, S3 answering 5xx, SFTP sessions dropped, the meta disk full), restores
 * checked against the oracle, then the bad-input sweep on a sample of positions. About three minutes; fails the
 * build on any mismatch or failure, and prints the report (with the command that reproduces it) either way. The
 * other faults (stalls, resets, read-only storage, idle, ...) run in the long profile: bin/torture --duration 2h.
 */
class TortureShortProfileTest {
  /** Changing the seed changes the schedule; keep it fixed so that a failure reproduces. */
  static final long SEED = 20261124L;

  @Test
  void shortProfileFindsNothing() throws Exception {
    TortureOptions opt = TortureOptions.defaults(SEED).with(b -> {
      b.duration = Duration.ofSeconds(90);
      b.backends = List.of("file", "file-age", "s3", "sftp"); // file-age: one replica encrypted with age
      b.workDir = Path.of("target", "torture-short").toAbsolutePath();
      b.faults = EnumSet.of(FaultKind.KILL9, FaultKind.KILL9_CHECKPOINT, FaultKind.DB_REPLACED_LIVE,
          FaultKind.STORAGE_ERRORS, FaultKind.SFTP_DROP, FaultKind.META_DISK_FULL);
      b.restoresPerCycle = 1;
      b.restoresInProcess = true; // the agent is still a process; restores skip a JVM start each
      b.sweepSamples = 16;
      b.lagGrace = Duration.ofSeconds(15); // a loaded 2-core CI machine; soak runs use the 5 s default
    });
    Tally tally = Torture.run(opt, System.out);
    List<String> findings = tally.findings.stream().map(f -> f.problem() + " " + f.detail()).toList();
    assertThat(findings).as("torture findings (seed %d)", SEED).isEmpty();
    assertThat(tally.cycles).isGreaterThan(0);
    assertThat(tally.restoresChecked()).isGreaterThan(tally.cycles);
  }
}
