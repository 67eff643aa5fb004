package dev.strata.bench.torture;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What a server run counted and found. Every finding carries the cycle and the fault that preceded it, so that a
 * failure against a rewritten server says what differed and after what.
 */
final class ServerTally {
  /** Kinds of failure; the first group are mismatches (data the server holds or serves is wrong or gone). */
  enum Problem {
    CONTENT("an export, snapshot or position differs from the oracle's state for that TXID"),
    LOST_ACK("the server's position fell below a TXID it had acknowledged"),
    UNKNOWN_STATE("the server shows a state that no acknowledged upload or restore produced"),
    POINT("a restore point resolved to the wrong TXID or time, or lists a state the oracle disagrees with"),
    POINT_LOST("a restore point that must still exist is gone (recent upload, listed point inside retention)"),
    INTEGRITY("an exported SQLite file fails PRAGMA quick_check"),
    RETENTION("old storage files are not deleted: storage grows without bound"),
    STALLED("restore points (level 2) or level 1 stopped keeping up with acknowledged uploads"),
    PROTOCOL("an answer breaks the protocol (stale position not 409 EPOSMISMATCH, a missing or falling HWM, ...)"),
    SERVER("strata serve exited on its own, did not start, or a request failed on a healthy server"),
    NODE("a LiteFS node could not get back in sync with the server"),
    HARNESS("the harness stopped on something it did not expect (see logs/harness-error.txt)");

    final String meaning;

    Problem(String meaning) {
      this.meaning = meaning;
    }

    boolean isMismatch() {
      return ordinal() <= INTEGRITY.ordinal();
    }
  }

  /** One failure: which database, when (the cycle and the fault that preceded it, or the simulated day), what. */
  record Finding(Problem problem, String db, String when, String detail) {}

  int cycles;
  final Map<ServerFault, Integer> faults = new EnumMap<>(ServerFault.class);
  /** Exports compared with the oracle, by kind (latest over HTTP, latest by the CLI, an earlier point, ...). */
  final Map<String, Integer> exports = new TreeMap<>();
  /** Restore points checked, by kind (check by TXID, by time, listed by info, ...). */
  final Map<String, Integer> points = new TreeMap<>();
  /** What the LiteFS nodes did: uploads, position mismatches, snapshots fetched, errors. */
  final Map<String, Integer> nodeEvents = new TreeMap<>();
  final Map<String, String> notes = new LinkedHashMap<>();
  final List<Finding> findings = new ArrayList<>();
  private String when = "start";
  private Consumer<Finding> listener = f -> {};

  /** When findings from now on happen: "cycle 3, after kill-9-upload (…)", "simulated day 12". */
  synchronized void at(String when) {
    this.when = when;
  }

  synchronized String when() {
    return when;
  }

  synchronized void onFinding(Consumer<Finding> l) {
    listener = l;
  }

  synchronized void find(Problem p, String db, String detail) {
    Finding f = new Finding(p, db, when, detail);
    findings.add(f);
    listener.accept(f);
  }

  synchronized void fault(ServerFault kind) {
    faults.merge(kind, 1, Integer::sum);
  }

  synchronized void export(String kind) {
    exports.merge(kind, 1, Integer::sum);
  }

  synchronized void point(String kind) {
    points.merge(kind, 1, Integer::sum);
  }

  synchronized void node(String event) {
    nodeEvents.merge(event, 1, Integer::sum);
  }

  synchronized int exportsVerified() {
    return exports.values().stream().mapToInt(Integer::intValue).sum();
  }

  synchronized int pointsChecked() {
    return points.values().stream().mapToInt(Integer::intValue).sum();
  }

  synchronized long mismatches() {
    return findings.stream().filter(f -> f.problem().isMismatch()).count();
  }

  synchronized boolean passed() {
    return findings.isEmpty();
  }

  /** The report: seed, cycles, faults by kind, exports, points, node events, notes, findings, result. */
  synchronized String report(ServerTortureOptions opt, long elapsedMillis) {
    StringBuilder sb = new StringBuilder();
    String nl = System.lineSeparator();
    sb.append(nl).append("strata torture --server report").append(nl);
    row(sb, "seed", opt.seed() + "   (reproduce: " + opt.reproduce() + ")");
    row(sb, "ran", String.format("%.1f s, %d cycles, %d databases", elapsedMillis / 1000.0, cycles, opt.databases()));
    if (opt.instances() > 1 || opt.postgres()) {
      row(sb, "servers", opt.instances() + " instance" + (opt.instances() == 1 ? "" : "s") + ", metadata in "
          + opt.metadata());
    }
    List<String> f = new ArrayList<>();
    faults.forEach((k, n) -> f.add(k.label() + " " + n));
    row(sb, "faults", f.isEmpty() ? "none" : String.join(", ", f));
    row(sb, "exports verified", exportsVerified() + " " + describe(exports));
    row(sb, "points checked", pointsChecked() + " " + describe(points));
    if (!nodeEvents.isEmpty()) row(sb, "LiteFS nodes", describe(nodeEvents).replaceAll("^\\(|\\)$", ""));
    for (Map.Entry<String, String> e : notes.entrySet()) row(sb, e.getKey(), e.getValue());
    row(sb, "mismatches", Long.toString(mismatches()));
    row(sb, "other failures", Long.toString(findings.size() - mismatches()));
    int shown = 0;
    for (Finding x : findings) {
      if (++shown > 40) {
        sb.append("  … ").append(findings.size() - 40).append(" more in logs/torture.log").append(nl);
        break;
      }
      sb.append(String.format("  ! %-13s db %s, %s: %s%n", x.problem(), x.db(), x.when(), x.detail()));
    }
    row(sb, "result", passed() ? "PASS" : "FAIL");
    return sb.toString();
  }

  private static String describe(Map<String, Integer> m) {
    if (m.isEmpty()) return "";
    List<String> parts = new ArrayList<>();
    m.forEach((k, n) -> parts.add(k + " " + n));
    return "(" + String.join(", ", parts) + ")";
  }

  private static void row(StringBuilder sb, String key, String value) {
    sb.append(String.format("  %-18s %s%n", key, value));
  }
}
