package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The short profile of the torture harness, run by every {@code bin/test}: a fixed seed, all three backends at
 * once, every fault kind at least once, the bad-input sweep on a sample of positions. Fails the build on any
 * mismatch or failure; the report (and the seed to reproduce it with bin/torture) is printed either way.
 */
class TortureShortProfileTest {
  /** Changing the seed changes the schedule; keep it fixed so that a failure reproduces. */
  static final long SEED = 20261124L;

  @Test
  void shortProfileFindsNothing() throws Exception {
    TortureOptions opt = TortureOptions.defaults(SEED).with(b -> {
      b.duration = Duration.ofSeconds(100);
      b.workDir = Path.of("target", "torture-short").toAbsolutePath();
      b.restoresPerCycle = 1;
      b.sweepSamples = 48;
      b.lagGrace = Duration.ofSeconds(10); // a loaded 2-core CI machine; soak runs use the 5 s default
    });
    Tally tally = Torture.run(opt, System.out);
    List<String> findings = tally.findings.stream().map(f -> f.problem() + " " + f.detail()).toList();
    assertThat(findings).as("torture findings (seed %d)", SEED).isEmpty();
    assertThat(tally.cycles).isGreaterThan(0);
    assertThat(tally.restoresChecked()).isGreaterThan(tally.cycles);
  }
}
