package dev.strata.bench.torture;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What a run counted and found; printed as the run's report. */
final class Tally {
  /** Kinds of failure. The first group are mismatches: a restore or replica that is wrong. */
  enum Problem {
    CONTENT("restored content differs from the oracle entry of the commit it claims"),
    INTEGRITY("restored file fails PRAGMA integrity_check"),
    UNKNOWN_STATE("restored file claims a commit the writer never made"),
    LOST_COMMITS("restore after a clean stop lacks commits the writer made"),
    CHAIN("replica chain broken or a file fails its checksums"),
    CHECKSUM("restored file's database checksum differs from the replica's post-apply checksum"),
    POINT_CHANGED("a TXID restored twice gave different states, or TXID order disagrees with commit order"),
    FROM_THE_FUTURE("restore to a time or point returned commits made after it"),
    LAG("live restore lagged more than sync interval + fault duration + grace"),
    RESTORE_ERROR("strata restore failed on a healthy replica"),
    AGENT("strata replicate exited on its own, exited non-zero on SIGTERM, or did not stop"),
    IDLE_TRAFFIC("replica requests while no database changed (invariant 4)"),
    WRITER("the writer failed (its database became unusable)"),
    HARNESS("the harness stopped on something it did not expect (see logs/harness-error.txt)"),
    BAD_INPUT("bad input not refused cleanly (bit flip or truncation undetected or unnamed, stack trace, config/URL)");

    final String meaning;

    Problem(String meaning) {
      this.meaning = meaning;
    }

    boolean isMismatch() {
      return ordinal() <= LAG.ordinal();
    }
  }

  /** One failure, with where it happened. */
  record Finding(Problem problem, int cycle, String target, String detail) {}

  int cycles;
  final Map<FaultKind, Integer> faults = new EnumMap<>(FaultKind.class);
  final Map<String, Integer> restores = new LinkedHashMap<>();
  final List<Finding> findings = new ArrayList<>();
  final Map<String, String> notes = new LinkedHashMap<>();
  final Map<String, Integer> agentEvents = new TreeMap<>();
  int chainChecks;
  long filesVerified;
  long overlapJoins;
  long superseded;
  long worstLagMillis = -1;
  String worstLagWhere = "";
  long worstLagBudget;

  synchronized void fault(FaultKind kind) {
    faults.merge(kind, 1, Integer::sum);
  }

  synchronized void restore(String kind) {
    restores.merge(kind, 1, Integer::sum);
  }

  synchronized void agentEvent(String what) {
    agentEvents.merge(what, 1, Integer::sum);
  }

  private java.util.function.Consumer<Finding> listener = f -> {};

  /** Called with every finding as it is made (the run logs them). */
  synchronized void onFinding(java.util.function.Consumer<Finding> l) {
    listener = l;
  }

  synchronized void find(Problem p, int cycle, String target, String detail) {
    Finding f = new Finding(p, cycle, target, detail);
    findings.add(f);
    listener.accept(f);
  }

  synchronized void lag(long millis, long budget, String where) {
    if (millis > worstLagMillis) {
      worstLagMillis = millis;
      worstLagBudget = budget;
      worstLagWhere = where;
    }
  }

  synchronized int restoresChecked() {
    return restores.values().stream().mapToInt(Integer::intValue).sum();
  }

  synchronized long mismatches() {
    return findings.stream().filter(f -> f.problem().isMismatch()).count();
  }

  synchronized boolean passed() {
    return findings.isEmpty();
  }
}
