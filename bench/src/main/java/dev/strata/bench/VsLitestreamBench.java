package dev.strata.bench;

import dev.strata.replica.file.DirectoryTree;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Strata and Litestream 0.3.13 side by side (issue 19), both run as users run them: a new process with default
 * settings, a file replica, the same database and the same writer (a python3 process, so that neither tool's
 * runtime is in the application). In one run, the tools taking turns:
 *
 * <ol>
 *   <li>a database of 1,000-byte random rows ({@code --size-mib}) is replicated by each tool while the writer
 *       commits 20,000 single-row updates over a minute: peak RSS of the replicating process ({@code /usr/bin/time
 *       -v}), worst commit, then replica bytes against database bytes;
 *   <li>restore of that replica to a new file, {@code bin/strata restore -o OUT DIR} against {@code litestream
 *       restore -o OUT file:///DIR} (and Strata with {@code --integrity-check none}): wall time and peak RSS,
 *       median of {@code --rounds};
 *   <li>writer throughput alone and then with the tool replicating (paired, {@code --seconds} each, for each
 *       round): the median of the paired ratios, worst and p99 commit latency, peak RSS of the replicating process.
 * </ol>
 *
 * <p>{@code --age} adds a third tool to every workload, "strata age": Strata replicating to an age-encrypted directory
 * replica ({@code file:///DIR?age-recipient=age1…&age-identity=KEY}, the identity so that it compacts as plain Strata
 * does) and restoring with {@code --age-identity KEY}, the key pair from {@code age-keygen} in the run's directory.
 * The table then adds the cost of encryption (issue 16: restore time at most 1.15x, writer-throughput ratio at
 * least 0.95x of plain Strata's).
 *
 * <p>{@code --strata-opts LABEL=OPTIONS} (repeatable) adds Strata runs with {@code STRATA_JAVA_OPTS=OPTIONS} to the
 * restore and throughput rounds, to compare JVM options for the launcher ({@code LABEL=} alone: the JVM's own
 * defaults, overriding the launcher's). Litestream is installed from the npm registry ({@code npm pack
 * @flydotio/litestream-linux-x64@1.0.1}, which holds the v0.3.13 binary) into {@code ~/.cache/strata} unless
 * {@code --litestream PATH} is given.
 *
 * <p>Usage: {@code bin/bench-vs-litestream [--size-mib 1024] [--rounds 5] [--seconds 10] [--updates 20000]
 * [--update-seconds 60] [--only restore|replicate|ls03-restore] [--age] [--strata-opts LABEL=OPTS]... [--dir DIR]
 * [--keep] [--smoke]}
 */
public final class VsLitestreamBench {
  static final String LITESTREAM_PACKAGE = "@flydotio/litestream-linux-x64@1.0.1";
  static final String LITESTREAM_VERSION = "v0.3.13";
  private static final Path TIME = Path.of("/usr/bin/time");
  private static final Pattern MAX_RSS = Pattern.compile("Maximum resident set size \\(kbytes\\): (\\d+)");

  /**
   * One tool as it is run: Strata through its launcher (with STRATA_JAVA_OPTS, or null: unset), or Litestream.
   * {@code urlQuery} ("" or "?key=value&…") is added to the replica's URL for {@code replicate}, {@code restoreArgs}
   * to every {@code restore}: for an encrypted replica, the age recipient and identity, and {@code --age-identity}.
   */
  record Tool(String label, boolean strata, Path exe, String javaOpts, String urlQuery, List<String> restoreArgs) {
    Tool(String label, boolean strata, Path exe, String javaOpts) {
      this(label, strata, exe, javaOpts, "", List.of());
    }

    List<String> replicate(Path db, Path replica) {
      String target = strata && urlQuery.isEmpty() ? replica.toString() : "file://" + replica.toAbsolutePath()
          + urlQuery; // Strata takes a directory's path as users mostly give it; options need the URL
      return List.of(exe.toString(), "replicate", db.toString(), target);
    }

    List<String> restore(Path replica, Path out, List<String> extra) {
      List<String> cmd = new ArrayList<>(List.of(exe.toString(), "restore", "-o", out.toString()));
      cmd.addAll(restoreArgs);
      cmd.addAll(extra);
      cmd.add(strata ? replica.toString() : "file://" + replica.toAbsolutePath());
      return cmd;
    }

    void env(Map<String, String> env) {
      if (javaOpts == null) env.remove("STRATA_JAVA_OPTS");
      else env.put("STRATA_JAVA_OPTS", javaOpts);
    }

    /** Whether the replica holds a snapshot (Strata: a level-9 LTX file; Litestream 0.3: a generation's snapshot). */
    boolean hasSnapshot(Path replica) throws IOException {
      Path where = strata ? replica.resolve("9") : replica.resolve("generations");
      if (!Files.isDirectory(where)) return false;
      String suffix = strata ? ".ltx" : ".snapshot.lz4";
      try (Stream<Path> s = Files.walk(where)) {
        return s.anyMatch(p -> p.getFileName().toString().endsWith(suffix));
      }
    }

    /** The tool's local state next to the database, removed with the replica so that every run starts afresh. */
    List<Path> local(Path db) {
      String n = db.getFileName().toString();
      return List.of(db.resolveSibling("." + n + "-strata"), db.resolveSibling("." + n + "-litestream"));
    }
  }

  /** A finished process: wall seconds, peak RSS in KiB (from /usr/bin/time -v), exit code, output. */
  record Run(double seconds, long peakKib, int exit, String output) {
    double peakMib() {
      return peakKib / 1024.0;
    }
  }

  /** One writer run, from vs-writer.py's JSON line. */
  record Writer(long commits, double rate, double p50, double p99, double max) {}

  private final Path dir;
  private final long sizeBytes;
  private final int rounds;
  private final int seconds;
  private final int updates;
  private final int updateSeconds;
  private final String only;
  private final Tool strata;
  private final Tool litestream;
  private final Tool age; // null without --age
  private final List<Tool> variants;
  private final Path writerScript;

  private VsLitestreamBench(Path dir, long sizeBytes, int rounds, int seconds, int updates, int updateSeconds,
      String only, Tool strata, Tool litestream, Tool age, List<Tool> variants) throws IOException {
    this.dir = dir;
    this.sizeBytes = sizeBytes;
    this.rounds = rounds;
    this.seconds = seconds;
    this.updates = updates;
    this.updateSeconds = updateSeconds;
    this.only = only;
    this.strata = strata;
    this.litestream = litestream;
    this.age = age;
    this.variants = variants;
    this.writerScript = dir.resolve("vs-writer.py");
    try (InputStream in = VsLitestreamBench.class.getResourceAsStream("vs-writer.py")) {
      Files.write(writerScript, in.readAllBytes());
    }
  }

  /** Bad options and missing tools end the run with one line, not a stack trace. */
  public static void main(String[] args) throws Exception {
    try {
      run(args);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("bench-vs-litestream: " + e.getMessage());
      System.exit(1);
    }
  }

  static void run(String[] args) throws Exception {
    long mib = 1024;
    int rounds = 5, seconds = 10, updates = 20_000, updateSeconds = 60;
    boolean keep = false, withAge = false;
    String only = "all";
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "strata-vs-litestream");
    Path strataExe = Path.of("bin", "strata"); // bin/bench-vs-litestream runs from the repository root
    Path litestreamExe = null;
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--size-mib" -> mib = Long.parseLong(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--updates" -> updates = Integer.parseInt(args[++i]);
        case "--update-seconds" -> updateSeconds = Integer.parseInt(args[++i]);
        case "--only" -> only = args[++i];
        case "--dir" -> dir = Path.of(args[++i]);
        case "--keep" -> keep = true;
        case "--age" -> withAge = true;
        case "--strata" -> strataExe = Path.of(args[++i]);
        case "--litestream" -> litestreamExe = Path.of(args[++i]);
        case "--strata-opts" -> {
          String v = args[++i];
          int eq = v.indexOf('=');
          if (eq < 0) throw new IllegalArgumentException("--strata-opts LABEL=OPTIONS, not " + v);
          opts.put(v.substring(0, eq), v.substring(eq + 1));
        }
        case "--smoke" -> {
          mib = 8;
          rounds = 1;
          seconds = 2;
          updates = 300;
          updateSeconds = 3;
        }
        default -> {
          String usage = "usage: bin/bench-vs-litestream [--size-mib 1024] [--rounds 5] [--seconds 10] "
              + "[--updates 20000] [--update-seconds 60] [--only restore|replicate|ls03-restore] [--age] "
              + "[--strata-opts LABEL=OPTS]... [--strata PATH] [--litestream PATH] [--dir DIR] [--keep] [--smoke]";
          if (args[i].equals("--help") || args[i].equals("-h")) {
            System.out.println(usage);
            return;
          }
          throw new IllegalArgumentException("unknown option " + args[i] + "; " + usage);
        }
      }
    }
    if (!Files.isExecutable(TIME)) throw new IOException("GNU time is missing: apt-get install -y time");
    if (!Files.isExecutable(strataExe)) throw new IOException(strataExe + " is not executable");
    Path ls = litestreamExe != null ? litestreamExe : installLitestream(defaultCache());
    strataExe = strataExe.toAbsolutePath();
    ls = ls.toAbsolutePath();
    Tool strata = new Tool("strata", true, strataExe, null);
    Tool lite = new Tool("litestream", false, ls, null);
    List<Tool> variants = new ArrayList<>();
    for (var e : opts.entrySet()) variants.add(new Tool("strata " + e.getKey(), true, strataExe, e.getValue()));
    DirectoryTree.delete(dir);
    Files.createDirectories(dir);
    try {
      Tool age = withAge ? ageTool(strataExe, dir) : null;
      new VsLitestreamBench(dir, mib << 20, rounds, seconds, updates, updateSeconds, only, strata, lite, age,
          variants).run();
    } finally {
      if (!keep) DirectoryTree.delete(dir);
    }
  }

  /**
   * "strata age": Strata with a key pair made by {@code age-keygen} in {@code dir}, replicating to the public key (and
   * holding the identity, so that it compacts) and restoring with {@code --age-identity}.
   */
  static Tool ageTool(Path strataExe, Path dir) throws Exception {
    Path key = dir.resolve("key.txt").toAbsolutePath();
    Run gen;
    try {
      gen = run(List.of("age-keygen", "-o", key.toString()), dir, null, false);
    } catch (IOException e) {
      throw new IOException("--age needs age-keygen: apt-get install -y age", e);
    }
    if (gen.exit != 0) throw new IOException("age-keygen failed: " + gen.output);
    Run pub = run(List.of("age-keygen", "-y", key.toString()), dir, null, false);
    String recipient = pub.output.strip();
    if (pub.exit != 0 || !recipient.startsWith("age1")) throw new IOException("age-keygen -y failed: " + pub.output);
    return new Tool("strata age", true, strataExe, null, "?age-recipient=" + recipient + "&age-identity=" + key,
        List.of("--age-identity", key.toString()));
  }

  static Path defaultCache() {
    return Path.of(System.getProperty("user.home"), ".cache", "strata", "litestream-0.3.13");
  }

  /** Litestream 0.3.13 from the npm registry, unpacked into {@code cache} once; checks the version it prints. */
  static Path installLitestream(Path cache) throws Exception {
    Path exe = cache.resolve("package").resolve("litestream");
    if (!Files.isExecutable(exe)) {
      Files.createDirectories(cache);
      System.out.printf("installing Litestream: npm pack %s into %s%n", LITESTREAM_PACKAGE, cache);
      Run pack = run(List.of("npm", "pack", "--silent", LITESTREAM_PACKAGE), cache, null, false);
      if (pack.exit != 0) throw new IOException("npm pack failed: " + pack.output);
      Path tgz;
      try (Stream<Path> s = Files.list(cache)) {
        tgz = s.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
            .orElseThrow(() -> new IOException("npm pack left no tarball: " + pack.output));
      }
      Run tar = run(List.of("tar", "xzf", tgz.toString()), cache, null, false);
      if (tar.exit != 0 || !Files.isExecutable(exe)) throw new IOException("unpacking failed: " + tar.output);
    }
    Run v = run(List.of(exe.toString(), "version"), cache, null, false);
    if (!v.output.contains(LITESTREAM_VERSION)) {
      throw new IOException(exe + " version printed " + v.output.strip() + ", not " + LITESTREAM_VERSION);
    }
    return exe;
  }

  // ---- the run ----

  /** The tools of the replicate workload and of every round: Strata, Litestream, and "strata age" with --age. */
  private List<Tool> tools() {
    return age == null ? List.of(strata, litestream) : List.of(strata, litestream, age);
  }

  private void run() throws Exception {
    System.out.printf(Locale.ROOT, "VsLitestreamBench: %d MiB database of 1,000-byte random rows in %s; %d rounds; "
        + "%d cores, load %s%n", sizeBytes >> 20, dir, rounds, Runtime.getRuntime().availableProcessors(),
        RestoreBench.load());
    System.out.printf(Locale.ROOT, "  strata: %s; litestream: %s (%s)%n", strata.exe, litestream.exe,
        LITESTREAM_VERSION);
    if (age != null) System.out.printf(Locale.ROOT, "  strata age: replicate to file:///DIR%s, restore %s%n",
        age.urlQuery, String.join(" ", age.restoreArgs));
    // builds the CLI and trains its AOT cache if needed, so that no timed run does
    Run version = run(List.of(strata.exe.toString(), "--version"), dir, strata, false);
    if (version.exit != 0) throw new IOException("strata --version failed: " + version.output);
    Path base = dir.resolve("base.db");
    long t = System.nanoTime();
    long rows = RestoreBench.build(base, sizeBytes, "randomblob(1000)", 1100);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + base); Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL"); // persistent: both tools need WAL
    }
    System.out.printf(Locale.ROOT, "built %s (%d rows) in %.1f s%n", RestoreBench.mib(Files.size(base)), rows,
        RestoreBench.secs(t));

    // 1. the minute of updates, with each tool replicating; its replica is then restored
    System.out.printf(Locale.ROOT, "%nreplicate while the writer commits %,d updates over %d s:%n", updates,
        updateSeconds);
    Map<Tool, Path> replicas = new LinkedHashMap<>();
    Map<Tool, Run> pacedRss = new LinkedHashMap<>();
    Map<Tool, Writer> pacedWriter = new LinkedHashMap<>();
    Map<Tool, Double> replicaRatio = new LinkedHashMap<>();
    boolean fromLitestream = only.equals("ls03-restore");
    for (Tool tool : fromLitestream ? List.of(litestream) : tools()) {
      Path tdir = Files.createDirectories(dir.resolve(tool.label.replace(' ', '-')));
      Path db = tdir.resolve("app.db");
      Files.copy(base, db, StandardCopyOption.REPLACE_EXISTING);
      // The copy (and, before the first tool, the build) leaves a GiB to write back: written before the tool
      // starts, so that no tool's commits wait behind the bench's own writeback.
      settle();
      Path replica = tdir.resolve("replica");
      Agent agent = Agent.start(tool, db, replica, tdir.resolve("replicate.log"), tdir.resolve("replicate.time"));
      double wait = agent.awaitSnapshot();
      Writer w = writer(db, "paced", Integer.toString(updates), Integer.toString(updateSeconds));
      Run r = agent.stop();
      long replicaBytes = bytes(replica), dbBytes = Files.size(db);
      replicas.put(tool, replica);
      pacedRss.put(tool, r);
      pacedWriter.put(tool, w);
      replicaRatio.put(tool, (double) replicaBytes / dbBytes);
      System.out.printf(Locale.ROOT, "  %-10s first snapshot after %.1f s; %,d commits, p99 %.1f ms, worst %.1f ms; "
          + "replicate peak RSS %.0f MiB; replica %s for a %s database (%.3fx); load %s%n", tool.label, wait,
          w.commits, w.p99, w.max, r.peakMib(), RestoreBench.mib(replicaBytes), RestoreBench.mib(dbBytes),
          (double) replicaBytes / dbBytes, RestoreBench.load());
    }

    if (fromLitestream) {
      litestreamReplicaRounds(replicas.get(litestream), base);
      return;
    }

    // 2. restore
    Map<String, List<Run>> restores = new LinkedHashMap<>();
    if (!only.equals("replicate")) restores = restoreRounds(replicas);

    // 3. throughput with and without the tool replicating
    Map<String, Throughput> throughput = new LinkedHashMap<>();
    if (!only.equals("restore")) throughput = throughputRounds(base);

    // the table
    System.out.printf(Locale.ROOT, "%nside by side (%d MiB database, file replica, each tool with its defaults; "
        + "load %s):%n", sizeBytes >> 20, RestoreBench.load());
    String fmt = "  %-52s %12s %12s %9s%n";
    System.out.printf(Locale.ROOT, fmt, "", "strata", "litestream", "ratio");
    if (!restores.isEmpty()) {
      List<Run> s = restores.get("strata"), l = restores.get("litestream");
      row(fmt, "restore, s (median of " + rounds + ")", medianSecs(s), medianSecs(l), "%.2f");
      row(fmt, "restore --integrity-check none, s (median)", medianSecs(restores.get("strata none")),
          medianSecs(l), "%.2f");
      row(fmt, "restore peak RSS, MiB (median)", medianRss(s), medianRss(l), "%.0f");
    }
    row(fmt, "replicate peak RSS during the " + updates + " updates, MiB", pacedRss.get(strata).peakMib(),
        pacedRss.get(litestream).peakMib(), "%.0f");
    row(fmt, "worst commit during the " + updates + " updates, ms", pacedWriter.get(strata).max,
        pacedWriter.get(litestream).max, "%.0f");
    row(fmt, "replica bytes / database bytes after them", replicaRatio.get(strata), replicaRatio.get(litestream),
        "%.3f");
    if (!throughput.isEmpty()) {
      Throughput s = throughput.get(strata.label), l = throughput.get(litestream.label);
      row(fmt, "writer throughput with / without (median of " + rounds + " pairs)", s.ratio(), l.ratio(), "%.3f");
      row(fmt, "worst commit at full speed with the tool, ms", s.worst(), l.worst(), "%.0f");
      row(fmt, "p99 commit at full speed with the tool, ms (median)", s.p99(), l.p99(), "%.1f");
      row(fmt, "replicate peak RSS at full speed, MiB (median)", s.rss(), l.rss(), "%.0f");
    }
    if (!variants.isEmpty()) {
      System.out.printf(Locale.ROOT, "%nstrata with STRATA_JAVA_OPTS (medians; ranges in brackets):%n");
      for (Tool v : List.of(strata)) variantLine(v, restores, throughput);
      for (Tool v : variants) variantLine(v, restores, throughput);
    }
    if (age != null) encryption(restores, pacedRss, replicaRatio, throughput);
  }

  /** The cost of encryption, "strata age" against plain Strata, and whether issue 16's two targets hold. */
  private void encryption(Map<String, List<Run>> restores, Map<Tool, Run> pacedRss, Map<Tool, Double> replicaRatio,
      Map<String, Throughput> throughput) {
    System.out.printf(Locale.ROOT, "%nencryption (strata age / strata):%n");
    String fmt = "  %-52s %12s %12s %9s%n";
    System.out.printf(Locale.ROOT, fmt, "", "strata age", "strata", "ratio");
    List<String> verdicts = new ArrayList<>();
    if (!restores.isEmpty()) {
      List<Run> a = restores.get(age.label), s = restores.get(strata.label);
      List<Run> aNone = restores.get(age.label + " none"), sNone = restores.get("strata none");
      row(fmt, "restore, s (median of " + rounds + ")", medianSecs(a), medianSecs(s), "%.2f");
      row(fmt, "restore --integrity-check none, s (median)", medianSecs(aNone), medianSecs(sNone), "%.2f");
      row(fmt, "restore peak RSS, MiB (median)", medianRss(a), medianRss(s), "%.0f");
      double full = medianSecs(a) / medianSecs(s), none = medianSecs(aNone) / medianSecs(sNone);
      // The same ratio round by round: both runs of a round share the machine's state of the moment (its load, its
      // page cache), which drifts between rounds on a shared machine. Shown beside the verdict, which it does not set.
      System.out.printf(Locale.ROOT, "  restore, encrypted / plain of the same round: median %.2fx %s; "
          + "--integrity-check none %.2fx %s%n", pairedMedian(a, s), pairedRange(a, s), pairedMedian(aNone, sNone),
          pairedRange(aNone, sNone));
      verdicts.add(String.format(Locale.ROOT, "restore time <= 1.15x: %s (%.2fx; --integrity-check none %.2fx)",
          full <= 1.15 && none <= 1.15 ? "holds" : "MISSED", full, none));
    }
    row(fmt, "replicate peak RSS during the " + updates + " updates, MiB", pacedRss.get(age).peakMib(),
        pacedRss.get(strata).peakMib(), "%.0f");
    row(fmt, "replica bytes / database bytes after them", replicaRatio.get(age), replicaRatio.get(strata), "%.3f");
    if (!throughput.isEmpty()) {
      Throughput a = throughput.get(age.label), s = throughput.get(strata.label);
      row(fmt, "writer throughput with / without (median of " + rounds + " pairs)", a.ratio(), s.ratio(), "%.3f");
      row(fmt, "replicate peak RSS at full speed, MiB (median)", a.rss(), s.rss(), "%.0f");
      verdicts.add(String.format(Locale.ROOT, "writer-throughput ratio quotient >= 0.95: %s (%.3f / %.3f = %.2f)",
          a.ratio() / s.ratio() >= 0.95 ? "holds" : "MISSED", a.ratio(), s.ratio(), a.ratio() / s.ratio()));
    }
    for (String v : verdicts) System.out.println("  issue 16 target, " + v);
  }

  private void variantLine(Tool v, Map<String, List<Run>> restores, Map<String, Throughput> throughput) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %-44s", v.label + " ["
        + (v.javaOpts == null ? "launcher" : v.javaOpts.isEmpty() ? "JVM defaults" : v.javaOpts) + "]"));
    List<Run> r = restores.get(v.label);
    if (r != null) {
      b.append(String.format(Locale.ROOT, " restore %.2f s [%.2f..%.2f], %.0f MiB [%.0f..%.0f];", medianSecs(r),
          r.stream().mapToDouble(Run::seconds).min().orElse(0), r.stream().mapToDouble(Run::seconds).max().orElse(0),
          medianRss(r), r.stream().mapToDouble(Run::peakMib).min().orElse(0),
          r.stream().mapToDouble(Run::peakMib).max().orElse(0)));
    }
    Throughput t = throughput.get(v.label);
    if (t != null) {
      b.append(String.format(Locale.ROOT, " replicate: writer ratio %.3f [%.2f..%.2f], worst commit %.0f ms, "
          + "RSS %.0f MiB [%.0f..%.0f], agent CPU %.2f cores", t.ratio(), min(t.ratios), max(t.ratios), t.worst(),
          t.rss(), min(t.rssMib), max(t.rssMib), RestoreBench.median(t.cores)));
    }
    System.out.println(b);
  }

  /** A row of two tools' figures and their ratio, {@code a / b}. */
  private static void row(String fmt, String what, double a, double b, String numFmt) {
    System.out.printf(Locale.ROOT, fmt, what, String.format(Locale.ROOT, numFmt, a),
        String.format(Locale.ROOT, numFmt, b), String.format(Locale.ROOT, "%.2fx", a / b));
  }

  // ---- restore ----

  private Map<String, List<Run>> restoreRounds(Map<Tool, Path> replicas) throws Exception {
    System.out.printf(Locale.ROOT, "%nrestore to a new file, a new process each (first run of each untimed):%n");
    Path out = dir.resolve("restored.db");
    record Case(String name, Tool tool, Path replica, List<String> extra) {}
    List<Case> cases = new ArrayList<>();
    cases.add(new Case(strata.label, strata, replicas.get(strata), List.of()));
    cases.add(new Case(litestream.label, litestream, replicas.get(litestream), List.of()));
    cases.add(new Case("strata none", strata, replicas.get(strata), List.of("--integrity-check", "none")));
    if (age != null) {
      cases.add(new Case(age.label, age, replicas.get(age), List.of()));
      cases.add(new Case(age.label + " none", age, replicas.get(age), List.of("--integrity-check", "none")));
    }
    for (Tool v : variants) cases.add(new Case(v.label, v, replicas.get(strata), List.of()));
    Map<String, List<Run>> runs = new LinkedHashMap<>();
    for (Case c : cases) {
      restore(c.tool, c.replica, out, c.extra); // trains Strata's AOT cache if needed; warms the page cache
      runs.put(c.name, new ArrayList<>());
    }
    for (int r = 1; r <= rounds; r++) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  round %d:", r));
      for (Case c : rotated(cases, r - 1)) { // each case takes each place in a round in turn
        Run run = restore(c.tool, c.replica, out, c.extra);
        runs.get(c.name).add(run);
        line.append(String.format(Locale.ROOT, " %s %.2f s/%.0f MiB;", c.name, run.seconds, run.peakMib()));
      }
      System.out.println(line.append(" load ").append(RestoreBench.load()));
    }
    return runs;
  }

  /**
   * {@code --only ls03-restore}: the replica Litestream 0.3.13 wrote, restored by Strata and by Litestream itself,
   * against {@code cp}+{@code sync} of the database, in the same rounds; then {@code strata import} of it.
   */
  private void litestreamReplicaRounds(Path replica, Path base) throws Exception {
    System.out.printf(Locale.ROOT, "%nrestore of the Litestream 0.3 replica (%s) to a new file, a new process each "
        + "(first run of each untimed):%n", RestoreBench.mib(bytes(replica)));
    Path out = dir.resolve("restored.db");
    record Case(String name, List<String> cmd, Tool tool) {}
    List<Case> cases = List.of(
        new Case("strata", strata.restore(replica, out, List.of()), strata),
        new Case("strata none", strata.restore(replica, out, List.of("--integrity-check", "none")), strata),
        new Case("litestream", litestream.restore(replica, out, List.of()), litestream),
        new Case("cp+sync", List.of("sh", "-c", "cp \"$0\" \"$1\" && sync \"$1\"", base.toString(),
            out.toString()), null));
    Map<String, List<Run>> runs = new LinkedHashMap<>();
    for (Case c : cases) {
      runOnce(c.cmd, c.tool, out, c.name);
      runs.put(c.name, new ArrayList<>());
    }
    for (int r = 1; r <= rounds; r++) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  round %d:", r));
      for (Case c : rotated(cases, r - 1)) {
        Run run = runOnce(c.cmd, c.tool, out, c.name);
        runs.get(c.name).add(run);
        line.append(String.format(Locale.ROOT, " %s %.2f s/%.0f MiB;", c.name, run.seconds, run.peakMib()));
      }
      System.out.println(line.append(" load ").append(RestoreBench.load()));
    }
    Path imported = dir.resolve("imported");
    Run imp = timed(List.of(strata.exe.toString(), "import", "--samples", "1", replica.toString(),
        imported.toString()), strata);
    if (imp.exit != 0) throw new IOException("strata import failed: " + imp.output);
    long dbBytes = Files.size(base), lsBytes = bytes(replica);
    System.out.printf(Locale.ROOT, "%nfrom a Litestream 0.3 replica (%d MiB database; load %s):%n", sizeBytes >> 20,
        RestoreBench.load());
    String fmt = "  %-52s %12s %12s %9s%n";
    System.out.printf(Locale.ROOT, fmt, "", "strata", "litestream", "ratio");
    row(fmt, "restore, s (median of " + rounds + ")", medianSecs(runs.get("strata")),
        medianSecs(runs.get("litestream")), "%.2f");
    row(fmt, "restore --integrity-check none, s (median)", medianSecs(runs.get("strata none")),
        medianSecs(runs.get("litestream")), "%.2f");
    row(fmt, "restore peak RSS, MiB (median)", medianRss(runs.get("strata")), medianRss(runs.get("litestream")),
        "%.0f");
    System.out.printf(Locale.ROOT, "  cp+sync of the database: %.2f s (median); strata restore / cp+sync %.2fx%n",
        medianSecs(runs.get("cp+sync")), medianSecs(runs.get("strata")) / medianSecs(runs.get("cp+sync")));
    System.out.printf(Locale.ROOT, "  strata import (1 point verified): %.1f s, %.0f MB/s of database, %.1f MB/s of "
        + "Litestream replica, peak RSS %.0f MiB%n", imp.seconds, dbBytes / 1e6 / imp.seconds,
        lsBytes / 1e6 / imp.seconds, imp.peakMib());
  }

  private Run runOnce(List<String> cmd, Tool tool, Path out, String name) throws Exception {
    Files.deleteIfExists(out);
    settle();
    Run r = timed(cmd, tool);
    if (r.exit != 0 || !Files.isRegularFile(out) || Files.size(out) < sizeBytes / 2) {
      throw new IOException(name + " failed (exit " + r.exit + "): " + r.output);
    }
    Files.delete(out);
    return r;
  }

  private Run restore(Tool tool, Path replica, Path out, List<String> extra) throws Exception {
    Files.deleteIfExists(out);
    settle();
    Run r = timed(tool.restore(replica, out, extra), tool);
    if (r.exit != 0 || !Files.isRegularFile(out) || Files.size(out) < sizeBytes / 2) {
      throw new IOException(tool.label + " restore failed (exit " + r.exit + "): " + r.output);
    }
    Files.delete(out);
    return r;
  }

  // ---- throughput ----

  /** Per tool: paired ratios, worst and p99 commits, peak RSS and CPU of the replicating process. */
  record Throughput(List<Double> ratios, List<Double> worsts, List<Double> p99s, List<Double> rssMib,
      List<Double> cores) {
    double ratio() {
      return RestoreBench.median(ratios);
    }

    double worst() {
      return max(worsts);
    }

    double p99() {
      return RestoreBench.median(p99s);
    }

    double rss() {
      return RestoreBench.median(rssMib);
    }
  }

  private Map<String, Throughput> throughputRounds(Path base) throws Exception {
    System.out.printf(Locale.ROOT, "%nwriter at full speed, %d s alone, then %d s with the tool replicating "
        + "(after its first snapshot and 2 s of warm-up):%n", seconds, seconds);
    List<Tool> tools = new ArrayList<>(tools());
    tools.addAll(variants);
    Map<String, Throughput> result = new LinkedHashMap<>();
    for (Tool tool : tools) {
      result.put(tool.label, new Throughput(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
          new ArrayList<>(), new ArrayList<>()));
    }
    Path tdir = Files.createDirectories(dir.resolve("throughput"));
    Path db = tdir.resolve("app.db");
    Files.copy(base, db, StandardCopyOption.REPLACE_EXISTING);
    settle(); // as above: the copy written back before any timed writer
    Path replica = tdir.resolve("replica");
    writer(db, "max", "2"); // warms SQLite and the page cache
    for (int r = 1; r <= rounds; r++) {
      for (Tool tool : rotated(tools, r - 1)) { // each tool takes each place in a round in turn
        DirectoryTree.delete(replica);
        for (Path p : tool.local(db)) DirectoryTree.delete(p);
        Writer without = writer(db, "max", Integer.toString(seconds));
        Agent agent = Agent.start(tool, db, replica, tdir.resolve("replicate.log"), tdir.resolve("replicate.time"));
        agent.awaitSnapshot();
        writer(db, "max", "2");
        double cpu0 = agent.cpuSeconds();
        Writer with = writer(db, "max", Integer.toString(seconds));
        double cores = (agent.cpuSeconds() - cpu0) / seconds;
        Run run = agent.stop();
        Throughput t = result.get(tool.label);
        t.ratios.add(with.rate / without.rate);
        t.worsts.add(with.max);
        t.p99s.add(with.p99);
        t.rssMib.add(run.peakMib());
        t.cores.add(cores);
        System.out.printf(Locale.ROOT, "  round %d %-24s without %,.0f/s (worst %.0f ms), with %,.0f/s (p99 %.1f ms, "
            + "worst %.0f ms): ratio %.3f; agent %.2f cores, peak RSS %.0f MiB; load %s%n", r, tool.label,
            without.rate, without.max, with.rate, with.p99, with.max, with.rate / without.rate, cores, run.peakMib(),
            RestoreBench.load());
      }
    }
    return result;
  }

  // ---- processes ----

  /** A replicating process under {@code /usr/bin/time -v}. */
  private static final class Agent {
    final Tool tool;
    final Process time;
    final Path replica;
    final Path timeFile;
    final Path log;

    private Agent(Tool tool, Process time, Path replica, Path timeFile, Path log) {
      this.tool = tool;
      this.time = time;
      this.replica = replica;
      this.timeFile = timeFile;
      this.log = log;
    }

    static Agent start(Tool tool, Path db, Path replica, Path log, Path timeFile) throws IOException {
      List<String> cmd = new ArrayList<>(List.of(TIME.toString(), "-v", "-o", timeFile.toString()));
      cmd.addAll(tool.replicate(db, replica));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      tool.env(pb.environment());
      return new Agent(tool, pb.start(), replica, timeFile, log);
    }

    /** Seconds until the first snapshot is on the replica. */
    double awaitSnapshot() throws Exception {
      long t = System.nanoTime(), deadline = t + TimeUnit.MINUTES.toNanos(10);
      while (System.nanoTime() < deadline) {
        if (!time.isAlive()) throw new IOException(tool.label + " replicate exited: " + Files.readString(log));
        if (tool.hasSnapshot(replica)) return RestoreBench.secs(t);
        Thread.sleep(20);
      }
      throw new IOException(tool.label + " wrote no snapshot in 10 minutes: " + Files.readString(log));
    }

    double cpuSeconds() {
      return child().flatMap(h -> h.info().totalCpuDuration()).map(d -> d.toNanos() / 1e9).orElse(0.0);
    }

    private java.util.Optional<ProcessHandle> child() {
      return time.toHandle().children().findFirst();
    }

    /** SIGTERM to the tool (each does a final sync), then its peak RSS from /usr/bin/time. */
    Run stop() throws Exception {
      child().ifPresent(ProcessHandle::destroy);
      if (!time.waitFor(120, TimeUnit.SECONDS)) {
        time.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        time.destroyForcibly();
        throw new IOException(tool.label + " replicate did not stop within 120 s");
      }
      String report = Files.readString(timeFile);
      return new Run(0, peakKib(report), time.exitValue(), Files.readString(log));
    }
  }

  private Writer writer(Path db, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("python3", writerScript.toString(), db.toString()));
    cmd.addAll(List.of(args));
    Run r = run(cmd, dir, null, false);
    if (r.exit != 0) throw new IOException("writer failed: " + r.output);
    String json = r.output.strip().lines().reduce((a, b) -> b).orElse("");
    return new Writer((long) number(json, "commits"), number(json, "rate"), number(json, "p50_ms"),
        number(json, "p99_ms"), number(json, "max_ms"));
  }

  private static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": ([-0-9.eE+]+)").matcher(json);
    if (!m.find()) throw new IllegalStateException("no " + key + " in " + json);
    return Double.parseDouble(m.group(1));
  }

  /**
   * Writes back what earlier runs left dirty (a replica just written, a tool's output that was not synced), so
   * that no timed run pays for another's writeback.
   */
  private static void settle() throws Exception {
    new ProcessBuilder("sync").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        .waitFor();
  }

  private Run timed(List<String> cmd, Tool tool) throws Exception {
    Path timeFile = dir.resolve("time.out");
    List<String> full = new ArrayList<>(List.of(TIME.toString(), "-v", "-o", timeFile.toString()));
    full.addAll(cmd);
    Run r = run(full, dir, tool, true);
    return new Run(r.seconds, peakKib(Files.readString(timeFile)), r.exit, r.output);
  }

  private static Run run(List<String> cmd, Path cwd, Tool tool, boolean discard) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
    if (tool != null) tool.env(pb.environment());
    long t = System.nanoTime();
    Process p = pb.start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    int exit = p.waitFor();
    return new Run(RestoreBench.secs(t), 0, exit, discard && exit == 0 ? "" : out);
  }

  /** {@code items} starting at {@code by} (modulo their number), then wrapping around. */
  static <T> List<T> rotated(List<T> items, int by) {
    List<T> r = new ArrayList<>(items);
    java.util.Collections.rotate(r, -(by % Math.max(1, items.size())));
    return r;
  }

  private static long peakKib(String timeReport) {
    Matcher m = MAX_RSS.matcher(timeReport);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static long bytes(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static List<Double> pairedRatios(List<Run> a, List<Run> b) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) ratios.add(a.get(i).seconds / b.get(i).seconds);
    return ratios;
  }

  private static double pairedMedian(List<Run> a, List<Run> b) {
    return RestoreBench.median(pairedRatios(a, b));
  }

  private static String pairedRange(List<Run> a, List<Run> b) {
    List<Double> r = pairedRatios(a, b);
    return String.format(Locale.ROOT, "[%.2f..%.2f]", r.stream().mapToDouble(x -> x).min().orElse(0),
        r.stream().mapToDouble(x -> x).max().orElse(0));
  }

  private static double medianSecs(List<Run> runs) {
    return RestoreBench.median(runs.stream().map(Run::seconds).toList());
  }

  private static double medianRss(List<Run> runs) {
    return RestoreBench.median(runs.stream().map(Run::peakMib).toList());
  }

  private static double min(List<Double> v) {
    return v.stream().mapToDouble(x -> x).min().orElse(0);
  }

  private static double max(List<Double> v) {
    return v.stream().mapToDouble(x -> x).max().orElse(0);
  }
}
