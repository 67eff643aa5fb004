package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.bench.torture.NodeDatabase.State;
import dev.strata.bench.torture.ServerTally.Problem;
import dev.strata.ltx.Pos;
import dev.strata.replica.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The oracle's bookkeeping: what the server may show after answered, unanswered and raced uploads and restores. */
class LineageTest {
  private final ServerTally tally = new ServerTally();
  private final FakeClock clock = new FakeClock(Instant.parse("2026-01-05T00:00:00Z"));
  private final Lineage lineage = new Lineage("db", tally, clock);

  private static State state(long txid, String sha, long checksum) {
    return new State(txid, sha, checksum, 2, 1000 + txid);
  }

  private List<Problem> problems() {
    return tally.findings.stream().map(ServerTally.Finding::problem).toList();
  }

  @Test
  void acknowledgedPositionsPassAndAPositionBelowThemIsLost() {
    lineage.acknowledged(List.of(state(1, "a", 11), state(2, "b", 12)), "upload 1-2");
    assertThat(lineage.observe(new Pos(2, 12), lineage.highestAcked(), "pos")).isTrue();
    assertThat(lineage.points()).containsOnlyKeys(2L);
    assertThat(lineage.insideBatches()).containsExactly(1L);
    assertThat(lineage.observe(new Pos(1, 11), 2, "pos")).isFalse();
    assertThat(problems()).containsExactly(Problem.LOST_ACK);
  }

  @Test
  void aKnownTxidWithAnotherChecksumOrContentIsAMismatch() {
    lineage.acknowledged(List.of(state(1, "a", 11)), "upload 1");
    assertThat(lineage.observe(new Pos(1, 99), 1, "pos")).isFalse();
    assertThat(lineage.observeSnapshot(state(1, "other", 11), 1, "snapshot")).isFalse();
    assertThat(problems()).containsExactly(Problem.CONTENT, Problem.CONTENT);
  }

  @Test
  void anUnansweredUploadIsAcknowledgedWhenTheServerShowsItsEnd() {
    lineage.acknowledged(List.of(state(1, "a", 11)), "upload 1");
    lineage.unanswered(new Pos(1, 11), List.of(state(2, "b", 12), state(3, "c", 13)), "upload 2-3");
    assertThat(lineage.observe(new Pos(1, 11), 1, "pos")).isTrue(); // not applied yet: still a candidate
    assertThat(lineage.observe(new Pos(3, 13), 1, "pos")).isTrue();
    assertThat(lineage.highestAcked()).isEqualTo(3);
    assertThat(tally.findings).isEmpty();
  }

  @Test
  void anUnansweredUploadCannotApplyOnceTheServerMovedPastItsStart() {
    lineage.acknowledged(List.of(state(1, "a", 11)), "upload 1");
    lineage.unanswered(new Pos(1, 11), List.of(state(2, "b", 12), state(3, "c", 13)), "upload 2-3");
    lineage.acknowledged(List.of(state(2, "x", 22)), "upload 2 again, other content");
    assertThat(lineage.observe(new Pos(3, 13), 2, "pos")).isFalse();
    assertThat(problems()).containsExactly(Problem.UNKNOWN_STATE);
  }

  @Test
  void aRestoreSeenByTheNodeBeforeItsAnswerIsItsResult() {
    lineage.acknowledged(List.of(state(1, "a", 11)), "upload 1");
    lineage.acknowledged(List.of(state(2, "b", 12)), "upload 2");
    Lineage.PendingRestore r = lineage.restoreStarted(1, "restore to 1");
    assertThat(lineage.observeSnapshot(new State(3, "a", 11, 2, 5000), 2, "snapshot")).isTrue();
    lineage.restoreAnswered(r, 3);
    assertThat(lineage.entry(3).state().sha256()).isEqualTo("a");
    assertThat(lineage.highestAcked()).isEqualTo(3);
    assertThat(tally.findings).isEmpty();
  }

  @Test
  void aRestoreToTheCurrentTxidChangesNothing() {
    lineage.acknowledged(List.of(state(1, "a", 11)), "upload 1");
    Lineage.PendingRestore r = lineage.restoreStarted(1, "restore to 1");
    clock.advance(Duration.ofMinutes(1));
    lineage.restoreAnswered(r, 1);
    assertThat(lineage.entry(1).origin()).isEqualTo("upload 1");
    assertThat(lineage.entry(1).tsMin()).isEqualTo(1001);
    assertThat(tally.findings).isEmpty();
  }

  @Test
  void aRestoreAnsweringAnOlderExistingTxidIsWrong() {
    lineage.acknowledged(List.of(state(1, "a", 11)), "upload 1");
    lineage.acknowledged(List.of(state(2, "b", 12)), "upload 2");
    Lineage.PendingRestore r = lineage.restoreStarted(1, "restore to 1");
    lineage.restoreAnswered(r, 2);
    assertThat(problems()).containsExactly(Problem.POINT);
  }
}
