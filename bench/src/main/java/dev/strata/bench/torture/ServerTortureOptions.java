package dev.strata.bench.torture;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The options of a server run ({@code bin/torture --server}); every random choice derives from {@code seed}.
 *
 * @param duration stop starting cycles after this long
 * @param maxCycles stop after this many cycles (0: no limit)
 * @param databases LiteFS databases pushed at once, each by its own node
 * @param gapMillis a node commits every ~{@code gapMillis}
 * @param cycles run the fault cycles against {@code strata serve} processes
 * @param weeks simulated weeks of the in-process retention phase (0: skip it)
 * @param burstsPerDay write bursts per simulated day in the retention phase (the gaps between are minutes to hours)
 * @param strataScript run strata through this launcher instead of java -cp (null: java -cp)
 * @param instances {@code strata serve} processes sharing the metadata and the storage (more than one: postgres)
 * @param metadata "sqlite" (each instance's embedded store) or "postgres" (one LocalPostgres database for the run)
 */
record ServerTortureOptions(long seed, Duration duration, int maxCycles, int databases, int gapMillis, Path workDir,
    Set<ServerFault> faults, boolean cycles, int weeks, int burstsPerDay, boolean keep, Path strataScript,
    int instances, String metadata) {

  static final String USAGE = """
      usage: torture --server [options]     (proves strata serve, the LiteFS backup server)
        --seed N               reproduce a run (default: random, printed)
        --duration D           run fault cycles for D (e.g. 90s, 30m, 2h; default 3m)
        --cycles N             stop after N cycles (default: no limit)
        --databases N          databases pushed at once, each by its own LiteFS-like node (default 4)
        --gap-ms N             each node commits about every N ms (default 60)
        --faults LIST          fault kinds to draw from (default: all); see --list-faults
        --weeks N              simulated weeks of the in-process retention phase (default 5; 0 skips it)
        --bursts-per-day N     write bursts per simulated day in that phase (default 32)
        --retention-only       run only the retention phase
        --work DIR             work directory (default /tmp/strata-torture/server-<seed>)
        --keep                 keep the work directory even when the run passes
        --strata PATH          run strata through this launcher (e.g. bin/strata) instead of java -cp
        --instances N          strata serve processes sharing one metadata store and one storage root; each
                               request of a node goes to one of them at random (default 1; above 1 needs postgres)
        --metadata KIND        sqlite (each instance's embedded store, the default) or postgres (a PostgreSQL
                               started for the run from Debian's binaries; adds the kill-9-postgres fault)
        --list-faults          print the fault kinds and exit
      """;

  static ServerTortureOptions defaults(long seed) {
    return new ServerTortureOptions(seed, Duration.ofMinutes(3), 0, 4, 60,
        Path.of("/tmp/strata-torture", "server-" + seed), defaultFaults("sqlite"), true, 5, 32, false,
        null, 1, "sqlite");
  }

  /** Every fault that applies to the metadata store: the PostgreSQL ones only with postgres. */
  static Set<ServerFault> defaultFaults(String metadata) {
    Set<ServerFault> all = EnumSet.allOf(ServerFault.class);
    if (!metadata.equals("postgres")) all.removeIf(ServerFault::needsPostgres);
    return all;
  }

  boolean postgres() {
    return metadata.equals("postgres");
  }

  /** Parses the arguments after {@code --server}; a bad one is an IllegalArgumentException. */
  static ServerTortureOptions parse(String... args) {
    long seed = System.nanoTime() & 0xFFFFFFFFL;
    for (int i = 0; i < args.length - 1; i++) if (args[i].equals("--seed")) seed = number(args[i + 1], "--seed");
    Builder b = new Builder(defaults(seed));
    boolean faultsGiven = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--server" -> { }
        case "--seed" -> i++;
        case "--duration" -> b.duration = TortureOptions.parseDuration(value(args, ++i, a));
        case "--cycles" -> b.maxCycles = (int) number(value(args, ++i, a), a);
        case "--databases" -> b.databases = Math.max(1, (int) number(value(args, ++i, a), a));
        case "--gap-ms" -> b.gapMillis = Math.max(1, (int) number(value(args, ++i, a), a));
        case "--faults" -> {
          faultsGiven = true;
          b.faults = EnumSet.noneOf(ServerFault.class);
          for (String s : value(args, ++i, a).split(",")) b.faults.add(ServerFault.ofLabel(s));
        }
        case "--weeks" -> b.weeks = (int) number(value(args, ++i, a), a);
        case "--bursts-per-day" -> b.burstsPerDay = Math.max(1, (int) number(value(args, ++i, a), a));
        case "--retention-only" -> b.cycles = false;
        case "--work" -> b.workDir = Path.of(value(args, ++i, a));
        case "--keep" -> b.keep = true;
        case "--strata" -> b.strataScript = Path.of(value(args, ++i, a));
        case "--instances" -> b.instances = (int) number(value(args, ++i, a), a);
        case "--metadata" -> b.metadata = value(args, ++i, a);
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (!b.metadata.equals("sqlite") && !b.metadata.equals("postgres")) {
      throw new IllegalArgumentException("--metadata: sqlite or postgres, not " + b.metadata);
    }
    if (b.instances < 1) throw new IllegalArgumentException("--instances: at least 1");
    if (b.instances > 1 && !b.metadata.equals("postgres")) {
      throw new IllegalArgumentException("--instances " + b.instances + " needs --metadata postgres (the embedded "
          + "SQLite store belongs to one instance)");
    }
    if (!faultsGiven) b.faults = defaultFaults(b.metadata);
    for (ServerFault f : b.faults) {
      if (f.needsPostgres() && !b.metadata.equals("postgres")) {
        throw new IllegalArgumentException("fault " + f.label() + " needs --metadata postgres");
      }
    }
    return b.build();
  }

  /** The command line that reproduces this run. */
  String reproduce() {
    ServerTortureOptions d = defaults(seed);
    List<String> parts = new ArrayList<>(List.of("bin/torture", "--server", "--seed", Long.toString(seed)));
    if (!cycles) parts.add("--retention-only");
    else if (maxCycles > 0) parts.addAll(List.of("--cycles", Integer.toString(maxCycles)));
    else parts.addAll(List.of("--duration", TortureOptions.format(duration)));
    if (databases != d.databases) parts.addAll(List.of("--databases", Integer.toString(databases)));
    if (gapMillis != d.gapMillis) parts.addAll(List.of("--gap-ms", Integer.toString(gapMillis)));
    if (instances != d.instances) parts.addAll(List.of("--instances", Integer.toString(instances)));
    if (!metadata.equals(d.metadata)) parts.addAll(List.of("--metadata", metadata));
    if (!faults.equals(defaultFaults(metadata))) {
      parts.addAll(List.of("--faults", String.join(",", faults.stream().map(ServerFault::label).toList())));
    }
    if (weeks != d.weeks) parts.addAll(List.of("--weeks", Integer.toString(weeks)));
    if (burstsPerDay != d.burstsPerDay) parts.addAll(List.of("--bursts-per-day", Integer.toString(burstsPerDay)));
    return String.join(" ", parts);
  }

  /** A copy with some fields changed. */
  ServerTortureOptions with(Consumer<Builder> change) {
    Builder b = new Builder(this);
    change.accept(b);
    return b.build();
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
    return args[i];
  }

  private static long number(String s, String option) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + ": not a number: " + s);
    }
  }

  /** A mutable copy, for {@link #with}. */
  static final class Builder {
    long seed;
    Duration duration;
    int maxCycles;
    int databases;
    int gapMillis;
    Path workDir;
    Set<ServerFault> faults;
    boolean cycles;
    int weeks;
    int burstsPerDay;
    boolean keep;
    Path strataScript;
    int instances;
    String metadata;

    Builder(ServerTortureOptions o) {
      seed = o.seed;
      duration = o.duration;
      maxCycles = o.maxCycles;
      databases = o.databases;
      gapMillis = o.gapMillis;
      workDir = o.workDir;
      faults = EnumSet.copyOf(o.faults);
      cycles = o.cycles;
      weeks = o.weeks;
      burstsPerDay = o.burstsPerDay;
      keep = o.keep;
      strataScript = o.strataScript;
      instances = o.instances;
      metadata = o.metadata;
    }

    ServerTortureOptions build() {
      return new ServerTortureOptions(seed, duration, maxCycles, databases, gapMillis, workDir, faults, cycles, weeks,
          burstsPerDay, keep, strataScript, instances, metadata);
    }
  }
}
