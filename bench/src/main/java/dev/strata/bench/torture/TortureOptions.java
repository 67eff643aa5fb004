package dev.strata.bench.torture;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The options of one run; every random choice derives from {@code seed}.
 *
 * @param duration stop starting cycles after this long
 * @param maxCycles stop after this many cycles (0: no limit)
 * @param backends replica backends the agent writes to at once: file, file-age (age-encrypted), s3, sftp
 * @param syncInterval the agent's -sync-interval
 * @param lagGrace added to the lag budget for the agent's own work (a JVM start, a snapshot, an upload)
 * @param restoresPerCycle restores at earlier restore points per cycle (plus latest on every replica)
 * @param sweepSamples bit-flip positions sampled per planted file (0: every bit); truncations likewise
 * @param writerGapMillis the writer waits up to this long between commits
 * @param verifyEvery stop the agent and check every replica after every N-th cycle (and after the last)
 * @param restoresInProcess run strata restore inside the harness's JVM (faster; the agent is always a process)
 * @param strataScript run strata through this launcher instead of java -cp (null: java -cp)
 */
record TortureOptions(long seed, Duration duration, int maxCycles, List<String> backends, Duration syncInterval,
    Path workDir, Set<FaultKind> faults, Duration lagGrace, int restoresPerCycle, boolean cycles, boolean sweep,
    int sweepSamples, boolean keep, Path strataScript, int writerGapMillis, int verifyEvery, boolean restoresInProcess) {

  static final String USAGE = """
      usage: torture [options]
        --seed N               reproduce a run (default: random, printed)
        --duration D           run cycles for D (e.g. 90s, 30m, 2h; default 3m)
        --cycles N             stop after N cycles (default: no limit)
        --backends LIST        replicas written at once: file,file-age,s3,sftp (default: file,s3,sftp;
                               file-age: a directory replica encrypted with age)
        --sync-interval D      strata replicate -sync-interval (default 250ms)
        --faults LIST          fault kinds to draw from (default: all); see --list-faults
        --lag-grace D          slack in the lag budget for the agent's own work (default 5s)
        --restores N           restores at earlier restore points per cycle (default 2)
        --sweep-samples N      bit flips and truncations tried per planted LTX file (0 = all; default 200)
        --no-sweep             skip the bad-input sweep
        --sweep-only           run only the bad-input sweep
        --writer-gap-ms N      the writer pauses up to N ms between commits (default 40)
        --verify-every N       stop the agent (SIGTERM) and check every replica after every N-th cycle (default 2)
        --restores-in-process  run strata restore inside the harness's JVM (faster; the agent stays a process)
        --work DIR             work directory (default /tmp/strata-torture/<seed>)
        --keep                 keep the work directory even when the run passes
        --strata PATH          run strata through this launcher (e.g. bin/strata) instead of java -cp
        --list-faults          print the fault kinds and exit
        --server               prove strata serve instead (see below, or bin/torture --server --help)
      """;

  static TortureOptions defaults(long seed) {
    return new TortureOptions(seed, Duration.ofMinutes(3), 0, List.of("file", "s3", "sftp"),
        Duration.ofMillis(250), Path.of("/tmp/strata-torture", Long.toString(seed)), EnumSet.allOf(FaultKind.class),
        Duration.ofSeconds(5), 2, true, true, 200, false, null, 40, 2, false);
  }

  /** Parses the command line; a bad argument is an IllegalArgumentException with a one-line message. */
  static TortureOptions parse(String... args) {
    long seed = System.nanoTime() & 0xFFFFFFFFL;
    for (int i = 0; i < args.length - 1; i++) if (args[i].equals("--seed")) seed = parseLong(args[i + 1], "--seed");
    Builder b = Builder.from(defaults(seed));
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--seed" -> i++;
        case "--duration" -> b.duration = parseDuration(value(args, ++i, a));
        case "--cycles" -> b.maxCycles = (int) parseLong(value(args, ++i, a), a);
        case "--backends" -> {
          b.backends = List.of(value(args, ++i, a).split(","));
          for (String s : b.backends) {
            if (!List.of("file", "file-age", "s3", "sftp").contains(s)) {
              throw new IllegalArgumentException("unknown backend " + s);
            }
          }
        }
        case "--sync-interval" -> b.syncInterval = parseDuration(value(args, ++i, a));
        case "--faults" -> {
          b.faults = EnumSet.noneOf(FaultKind.class);
          for (String s : value(args, ++i, a).split(",")) b.faults.add(FaultKind.ofLabel(s));
        }
        case "--lag-grace" -> b.lagGrace = parseDuration(value(args, ++i, a));
        case "--restores" -> b.restoresPerCycle = (int) parseLong(value(args, ++i, a), a);
        case "--sweep-samples" -> b.sweepSamples = (int) parseLong(value(args, ++i, a), a);
        case "--no-sweep" -> b.sweep = false;
        case "--sweep-only" -> b.cycles = false;
        case "--writer-gap-ms" -> b.writerGapMillis = (int) parseLong(value(args, ++i, a), a);
        case "--restores-in-process" -> b.restoresInProcess = true;
        case "--verify-every" -> b.verifyEvery = Math.max(1, (int) parseLong(value(args, ++i, a), a));
        case "--work" -> b.workDir = Path.of(value(args, ++i, a));
        case "--keep" -> b.keep = true;
        case "--strata" -> b.strataScript = Path.of(value(args, ++i, a));
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    return b.build();
  }

  /** The command line that reproduces this run: the seed and every option that differs from the defaults. */
  String reproduce() {
    TortureOptions d = defaults(seed);
    List<String> parts = new ArrayList<>(List.of("bin/torture", "--seed", Long.toString(seed)));
    if (!cycles) parts.add("--sweep-only");
    else if (maxCycles > 0) parts.addAll(List.of("--cycles", Integer.toString(maxCycles)));
    else parts.addAll(List.of("--duration", format(duration)));
    if (!backends.equals(d.backends)) parts.addAll(List.of("--backends", String.join(",", backends)));
    if (!syncInterval.equals(d.syncInterval)) parts.addAll(List.of("--sync-interval", format(syncInterval)));
    if (!faults.equals(d.faults)) {
      parts.addAll(List.of("--faults", String.join(",", faults.stream().map(FaultKind::label).toList())));
    }
    if (!lagGrace.equals(d.lagGrace)) parts.addAll(List.of("--lag-grace", format(lagGrace)));
    if (restoresPerCycle != d.restoresPerCycle) parts.addAll(List.of("--restores", "" + restoresPerCycle));
    if (!sweep) parts.add("--no-sweep");
    else if (sweepSamples != d.sweepSamples) parts.addAll(List.of("--sweep-samples", "" + sweepSamples));
    if (writerGapMillis != d.writerGapMillis) parts.addAll(List.of("--writer-gap-ms", "" + writerGapMillis));
    if (verifyEvery != d.verifyEvery) parts.addAll(List.of("--verify-every", Integer.toString(verifyEvery)));
    if (restoresInProcess) parts.add("--restores-in-process");
    return String.join(" ", parts);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
    return args[i];
  }

  private static long parseLong(String s, String option) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + ": not a number: " + s);
    }
  }

  /** "250ms", "90s", "30m", "2h". */
  static Duration parseDuration(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (t.charAt(t.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("invalid duration \"" + s + "\" (e.g. 250ms, 90s, 30m, 2h)");
    }
  }

  /** The shortest of "250ms", "90s", "30m", "2h" that is exact. */
  static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
    if (ms % 60_000 == 0) return ms / 60_000 + "m";
    if (ms % 1000 == 0) return ms / 1000 + "s";
    return ms + "ms";
  }

  /** A mutable copy, for {@link #with}. */
  static final class Builder {
    long seed;
    Duration duration;
    int maxCycles;
    List<String> backends;
    Duration syncInterval;
    Path workDir;
    Set<FaultKind> faults;
    Duration lagGrace;
    int restoresPerCycle;
    boolean cycles;
    boolean sweep;
    int sweepSamples;
    boolean keep;
    Path strataScript;
    int writerGapMillis;
    int verifyEvery;
    boolean restoresInProcess;

    static Builder from(TortureOptions o) {
      Builder b = new Builder();
      b.seed = o.seed;
      b.duration = o.duration;
      b.maxCycles = o.maxCycles;
      b.backends = o.backends;
      b.syncInterval = o.syncInterval;
      b.workDir = o.workDir;
      b.faults = EnumSet.copyOf(o.faults);
      b.lagGrace = o.lagGrace;
      b.restoresPerCycle = o.restoresPerCycle;
      b.cycles = o.cycles;
      b.sweep = o.sweep;
      b.sweepSamples = o.sweepSamples;
      b.keep = o.keep;
      b.strataScript = o.strataScript;
      b.writerGapMillis = o.writerGapMillis;
      b.verifyEvery = o.verifyEvery;
      b.restoresInProcess = o.restoresInProcess;
      return b;
    }

    TortureOptions build() {
      return new TortureOptions(seed, duration, maxCycles, backends, syncInterval, workDir, faults, lagGrace,
          restoresPerCycle, cycles, sweep, sweepSamples, keep, strataScript, writerGapMillis,
          verifyEvery, restoresInProcess);
    }
  }

  /** A copy with some fields changed. */
  TortureOptions with(java.util.function.Consumer<Builder> change) {
    Builder b = Builder.from(this);
    change.accept(b);
    return b.build();
  }
}
