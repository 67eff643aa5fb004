package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which S3 requests during the idle window count as traffic (invariant 4). */
class IdleTrafficTest {
  private static final TortureRun.IdleFiles BEFORE = new TortureRun.IdleFiles(List.of(
      "0/0000000000000138-0000000000000138.ltx@t", "0/0000000000000139-000000000000013a.ltx@t",
      "0/000000000000013b-000000000000013c.ltx@t", "1/0000000000000130-0000000000000137.ltx@t"), 0x13c);
  private static final TortureRun.IdleRequests AT_START = new TortureRun.IdleRequests(0, List.of(), BEFORE);

  @Test
  void compactionOfChangesMadeBeforeThePauseAndRetentionAreNotTraffic() {
    // Seen in the torture run (seed 7): level-1 compaction of the last changes, late by the agent's upkeep tick.
    assertThat(AT_START.traffic(List.of(
        "GET /strata/app/0/0000000000000138-0000000000000138.ltx -> NONE",
        "GET /strata/app/0/0000000000000139-000000000000013a.ltx -> NONE",
        "GET /strata/app/0/000000000000013b-000000000000013c.ltx -> NONE",
        "PUT /strata/app/1/0000000000000138-000000000000013c.ltx -> NONE",
        "DELETE /strata/app/0/0000000000000138-0000000000000138.ltx -> NONE",
        "POST /strata?delete -> NONE"))).isEmpty();
  }

  @Test
  void uploadsListingsAndUnexplainedReadsAreTraffic() {
    List<String> bad = List.of(
        "PUT /strata/app/0/000000000000013d-000000000000013d.ltx -> NONE", // a level-0 upload
        "PUT /strata/app/1/0000000000000138-000000000000013d.ltx -> NONE", // past the top
        "PUT /strata/app/1/0000000000000130-0000000000000137.ltx -> NONE", // rewrites an existing file
        "GET /strata/app/1/0000000000000130-0000000000000137.ltx -> NONE", // no compaction output covers it
        "GET /strata?list-type=2&prefix=app%2F0%2F -> NONE",
        "HEAD /strata/app/0/0000000000000138-0000000000000138.ltx -> NONE");
    assertThat(AT_START.traffic(bad)).isEqualTo(bad);
  }
}
