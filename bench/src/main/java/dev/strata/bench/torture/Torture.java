package dev.strata.bench.torture;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/torture}: proves DESIGN.md's invariants 1–5 under crashes, foreign checkpoints, storage faults and bad
 * input. Prints the seed first (every choice derives from it; {@code --seed N} reproduces the run), a line per
 * cycle, then the report. Exits 0 when nothing was found, 1 on any mismatch or failure, 2 on bad usage.
 */
public final class Torture {
  private Torture() {}

  public static void main(String[] args) throws Exception {
    if (List.of(args).contains("--server")) {
      serverMain(args);
      return;
    }
    if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
      System.out.print(TortureOptions.USAGE);
      System.out.println();
      System.out.print(ServerTortureOptions.USAGE);
      return;
    }
    if (List.of(args).contains("--list-faults")) {
      for (FaultKind k : FaultKind.values()) System.out.printf("%-22s %s%n", k.label(), k.description());
      return;
    }
    TortureOptions opt;
    try {
      opt = TortureOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("torture: " + e.getMessage());
      System.err.print(TortureOptions.USAGE);
      System.exit(2);
      return;
    }
    Tally tally = run(opt, System.out);
    System.exit(tally.passed() ? 0 : 1);
  }

  /** {@code bin/torture --server …}: the server profile. */
  private static void serverMain(String[] args) throws Exception {
    if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
      System.out.print(ServerTortureOptions.USAGE);
      return;
    }
    if (List.of(args).contains("--list-faults")) {
      for (ServerFault k : ServerFault.values()) System.out.printf("%-20s %s%n", k.label(), k.description());
      return;
    }
    ServerTortureOptions opt;
    try {
      opt = ServerTortureOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("torture: " + e.getMessage());
      System.err.print(ServerTortureOptions.USAGE);
      System.exit(2);
      return;
    }
    ServerTally tally = runServer(opt, System.out);
    System.exit(tally.passed() ? 0 : 1);
  }

  /** Runs the server profile and prints its report; deletes the work directory when it passed (unless --keep). */
  static ServerTally runServer(ServerTortureOptions opt, PrintStream out) throws Exception {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "dev/strata/bench/torture/logback-torture.xml");
    }
    ServerTortureRun run = new ServerTortureRun(opt, out);
    ServerTally tally;
    try {
      tally = run.run();
    } finally {
      out.flush();
    }
    out.print(tally.report(opt, run.elapsedMillis()));
    if (tally.passed() && !opt.keep()) run.deleteWorkDir();
    else out.println("work directory kept: " + opt.workDir().toAbsolutePath());
    return tally;
  }

  /** Runs and prints the report; deletes the work directory when the run passed (unless --keep). */
  static Tally run(TortureOptions opt, PrintStream out) throws Exception {
    // Quiet S3Proxy and the SFTP server (effective when logging has not started yet in this JVM).
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "dev/strata/bench/torture/logback-torture.xml");
    }
    TortureRun run = new TortureRun(opt, out);
    Tally tally;
    try {
      tally = run.run();
    } finally {
      out.flush();
    }
    out.print(report(opt, tally, run.elapsedMillis()));
    if (tally.passed() && !opt.keep()) run.deleteWorkDir();
    else out.println("work directory kept: " + opt.workDir().toAbsolutePath());
    return tally;
  }

  /** The report: cycles, faults by kind, restores checked, mismatches, worst lag, bad input, findings. */
  static String report(TortureOptions opt, Tally t, long elapsedMillis) {
    StringBuilder sb = new StringBuilder();
    String nl = System.lineSeparator();
    sb.append(nl).append("strata torture report").append(nl);
    row(sb, "seed", opt.seed() + "   (reproduce: " + opt.reproduce() + ")");
    row(sb, "ran", String.format("%.1f s, %d cycles, backends %s, sync interval %s", elapsedMillis / 1000.0,
        t.cycles, String.join("+", opt.backends()), TortureOptions.format(opt.syncInterval())));
    List<String> faults = new ArrayList<>();
    t.faults.forEach((k, n) -> faults.add(k.label() + " " + n));
    row(sb, "faults", faults.isEmpty() ? "none" : String.join(", ", faults));
    List<String> agent = new ArrayList<>();
    t.agentEvents.forEach((k, n) -> agent.add(k + " " + n));
    if (!agent.isEmpty()) row(sb, "agent", String.join(", ", agent));
    List<String> restores = new ArrayList<>();
    t.restores.forEach((k, n) -> restores.add(k + " " + n));
    row(sb, "restores checked", t.restoresChecked() + (restores.isEmpty() ? "" : " (" + String.join(", ", restores)
        + ")"));
    row(sb, "chain checks", t.chainChecks + " (" + t.filesVerified + " LTX files read and verified; " + t.overlapJoins
        + " joined a chain by overlapping a compacted file rather than by checksum; " + t.superseded
        + " superseded: their predecessors gone, their restore point reached through a compacted file)");
    row(sb, "worst lag", t.worstLagMillis < 0 ? "not measured" : String.format("%d ms (budget %d ms; %s)",
        t.worstLagMillis, t.worstLagBudget, t.worstLagWhere));
    for (Map.Entry<String, String> e : t.notes.entrySet()) row(sb, e.getKey(), e.getValue());
    row(sb, "mismatches", Long.toString(t.mismatches()));
    row(sb, "other failures", Long.toString(t.findings.size() - t.mismatches()));
    int shown = 0;
    for (Tally.Finding f : t.findings) {
      if (++shown > 40) {
        sb.append("  … ").append(t.findings.size() - 40).append(" more in logs/torture.log").append(nl);
        break;
      }
      sb.append(String.format("  ! %-14s cycle %d, %s: %s%n", f.problem(), f.cycle(), f.target(), f.detail()));
    }
    row(sb, "result", t.passed() ? "PASS" : "FAIL");
    return sb.toString();
  }

  private static void row(StringBuilder sb, String key, String value) {
    sb.append(String.format("  %-18s %s%n", key, value));
  }
}
