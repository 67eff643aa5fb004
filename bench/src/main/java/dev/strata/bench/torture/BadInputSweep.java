package dev.strata.bench.torture;

import dev.strata.bench.torture.Tally.Problem;
import dev.strata.ltx.LtxFileName;
import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Bad input must be refused cleanly. Plants LTX files written by a real {@code strata replicate} in a file replica
 * whose restore needs every one of them, then flips bits and truncates each file in turn: every restore must fail
 * with one {@code strata:} line naming the file, leave no output behind, and print no stack trace. Then malformed
 * config files and replica URLs: a one-line error, a non-zero exit, nothing written, no hang.
 */
final class BadInputSweep {
  private final StrataLauncher strata;
  private final WriterScript script;
  private final Path dir;
  private final Tally tally;
  private final Random rng;
  private final int samples;
  private final Logger log;
  private final CliRunner inProcess;
  private int runs;

  /** Where progress goes. */
  interface Logger {
    void log(String format, Object... args);
  }

  BadInputSweep(StrataLauncher strata, WriterScript script, Path dir, Tally tally, Random rng, int samples,
      Logger log) {
    this.strata = strata;
    this.script = script;
    this.dir = dir;
    this.tally = tally;
    this.rng = rng;
    this.samples = samples;
    this.log = log;
    this.inProcess = CliRunner.inProcess();
  }

  void run() throws Exception {
    Files.createDirectories(dir);
    Path logs = Files.createDirectories(dir.resolve("logs"));
    Planted planted = plant(logs);
    if (planted != null) {
      corruptionSweep(planted);
      plantedCases(planted);
      reportProblems();
    }
    configSweep(logs);
    urlSweep(logs);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // A replica whose latest restore needs every file

  /** The planted replica and the commit its latest restore must hold. */
  record Planted(Path replica, List<Path> files, Oracle.Commit expected) {}

  private Planted plant(Path logs) throws Exception {
    Path dbDir = Files.createDirectories(dir.resolve("db"));
    Path db = dbDir.resolve("app.db");
    Path source = dir.resolve("source-replica");
    Oracle oracle = new Oracle(dir.resolve("oracle.tsv"));
    try (WriterProcess w = WriterProcess.start(script, db, oracle, rng.nextLong() & Long.MAX_VALUE,
        logs.resolve("writer.log"))) {
      w.commit(40);
      AgentProcess agent = AgentProcess.start(strata, List.of("replicate", "-sync-interval", "100ms", db.toString(),
          "file://" + source), logs.resolve("agent.log"));
      if (!agent.awaitReady(Duration.ofMinutes(2))) {
        tally.find(Problem.AGENT, 0, "file", "sweep: strata replicate never said '" + AgentProcess.READY + "'");
      }
      for (int i = 0; i < 6; i++) {
        Thread.sleep(400);
        w.commit(3 + rng.nextInt(10));
      }
      Thread.sleep(400);
      var exit = agent.terminate(Duration.ofSeconds(60));
      if (exit.isEmpty() || exit.getAsInt() != 0) {
        tally.find(Problem.AGENT, 0, "file", "sweep: strata replicate exit " + exit + " after SIGTERM");
      }
    }
    oracle.refresh();
    ChainCheck.Report chain = ChainCheck.check(new FileReplicaClient(source));
    // The plan of a replica holding only one chain from MinTXID 1 to the top is that whole chain.
    List<ChainCheck.FileView> path = chainToTop(chain);
    if (path.isEmpty()) {
      tally.find(Problem.BAD_INPUT, 0, "file", "sweep: no chain from a snapshot to the top in " + source + " ("
          + chain.levelCounts() + ", problems " + chain.problems() + ")");
      return null;
    }
    Path planted = dir.resolve("planted");
    List<Path> files = new ArrayList<>();
    for (ChainCheck.FileView f : path) {
      Path from = source.resolve(Integer.toString(f.level())).resolve(LtxFileName.format(f.min(), f.max()));
      Path to = planted.resolve(Integer.toString(f.level())).resolve(LtxFileName.format(f.min(), f.max()));
      Files.createDirectories(to.getParent());
      Files.copy(from, to);
      files.add(to);
    }
    Oracle.Commit expected = oracle.last();
    log.log("sweep: planted %d files (%s) in %s; latest must be commit %d", files.size(),
        String.join(", ", path.stream().map(ChainCheck.FileView::name).toList()), planted, expected.seq());
    Outcome base = restoreOnce(planted, "baseline");
    if (!base.ok() || !expected.digest().equals(base.digest())) {
      tally.find(Problem.RESTORE_ERROR, 0, "file", "sweep: restore of the intact planted replica failed or differs: "
          + base);
      return null;
    }
    return new Planted(planted, files, expected);
  }

  private static List<ChainCheck.FileView> chainToTop(ChainCheck.Report chain) {
    Map<Long, ChainCheck.FileView> byEnd = new LinkedHashMap<>();
    for (ChainCheck.FileView f : chain.files()) byEnd.putIfAbsent(f.max(), f);
    List<ChainCheck.FileView> path = new ArrayList<>();
    long at = chain.maxTxid();
    while (at > 0) {
      ChainCheck.FileView f = byEnd.get(at);
      if (f == null) return List.of();
      path.addFirst(f);
      at = f.min() - 1;
    }
    return path;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Bit flips and truncations

  private void corruptionSweep(Planted p) throws IOException {
    int flips = 0, cuts = 0, caught = 0;
    Map<String, Integer> messages = new LinkedHashMap<>();
    long totalBits = 0, totalLengths = 0;
    for (Path file : p.files()) {
      long fileStart = System.currentTimeMillis();
      int before = flips + cuts;
      byte[] original = Files.readAllBytes(file);
      originals.put(file, original);
      String name = file.getParent().getFileName() + "/" + file.getFileName();
      totalBits += original.length * 8L;
      totalLengths += original.length;
      try {
        for (long bit : positions(original.length * 8L, original.length)) {
          byte[] bad = original.clone();
          bad[(int) (bit / 8)] ^= (byte) (1 << (bit % 8));
          Files.write(file, bad);
          flips++;
          if (judgeCorrupt(p, file, "bit " + bit + " of " + name, flips <= 2)) caught++;
          countMessage(messages);
        }
        for (long len : positions(original.length, original.length)) {
          Files.write(file, java.util.Arrays.copyOf(original, (int) len));
          cuts++;
          if (judgeCorrupt(p, file, "truncation to " + len + " bytes of " + name, cuts <= 2)) caught++;
          countMessage(messages);
        }
      } finally {
        Files.write(file, original);
      }
      log.log("sweep: %s (%d bytes): %d corruptions in %d ms", file.getFileName(), original.length,
          flips + cuts - before, System.currentTimeMillis() - fileStart);
    }
    String sampling = samples == 0 ? "every bit and every length"
        : "sampled up to " + samples + " bit positions and " + samples + " lengths per file, of " + totalBits
            + " bits and " + totalLengths + " lengths in all";
    List<Map.Entry<String, Integer>> kinds = new ArrayList<>(messages.entrySet());
    kinds.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
    tally.notes.put("bit flips and truncations", String.format("%d flips + %d truncations over %d files (%s): %d "
        + "caught with an error naming the file, %d harmless (the LZ4 bytes changed, the decoded file did not: "
        + "restore right); most common errors: %s", flips, cuts, p.files().size(), sampling, caught - benign,
        benign, kinds.subList(0, Math.min(4, kinds.size()))));
    log.log("sweep: %d/%d corruptions caught with a named error or harmless (%d harmless)", caught, flips + cuts,
        benign);
  }

  private String lastMessage = "";
  private int benign;
  private final Map<Path, byte[]> originals = new java.util.HashMap<>();

  /** True when the damaged file at {@code file} still decodes to exactly what the original decodes to. */
  private boolean sameContent(Path file) {
    try {
      return java.util.Arrays.equals(decoded(originals.get(file)), decoded(Files.readAllBytes(file)));
    } catch (IOException e) {
      return false;
    }
  }

  /** Header, every page number and page, and trailer of an LTX file, as one byte array. */
  private static byte[] decoded(byte[] ltx) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (dev.strata.ltx.LtxDecoder d = new dev.strata.ltx.LtxDecoder(new java.io.ByteArrayInputStream(ltx))) {
      out.write(d.header().encode());
      byte[] page = new byte[d.header().pageSize()];
      for (int pgno; (pgno = d.readPage(page)) != 0; ) {
        out.write(java.nio.ByteBuffer.allocate(4).putInt(pgno).array());
        out.write(page);
      }
      out.write(d.finish().encode());
    }
    return out.toByteArray();
  }

  private void countMessage(Map<String, Integer> messages) {
    String kind = lastMessage.replaceAll("[0-9a-f]{16}", "…").replaceAll("\\d+", "N");
    if (kind.length() > 90) kind = kind.substring(0, 90) + "…";
    messages.merge(kind, 1, Integer::sum);
  }

  /** Every position when sampling is off or the space is small; else a seeded sample that covers both ends. */
  private List<Long> positions(long space, int fileLength) {
    if (samples == 0 || space <= samples) {
      List<Long> all = new ArrayList<>();
      for (long i = 0; i < space; i++) all.add(i);
      return all;
    }
    TreeSet<Long> picked = new TreeSet<>();
    long scale = space / fileLength; // 8 for bits, 1 for lengths
    // The header, the trailer and the first and last page frames are where parsers go wrong: sample them densely.
    long[][] regions = {{0, Math.min(space, 100 * scale)}, {Math.max(0, space - 16 * scale), space},
        {0, space}};
    int[] quota = {samples / 4, samples / 8, samples};
    for (int r = 0; r < regions.length; r++) {
      long lo = regions[r][0], hi = regions[r][1];
      int target = Math.min(picked.size() + quota[r], samples);
      for (int tries = 0; picked.size() < target && tries < 20 * quota[r]; tries++) {
        picked.add(lo + rng.nextLong(Math.max(1, hi - lo))); // a small region runs out of new positions: tries end
      }
    }
    picked.add(0L);
    picked.add(space - 1);
    return new ArrayList<>(picked);
  }

  /** True when the corruption was refused as it must be; otherwise records why not. */
  private boolean judgeCorrupt(Planted p, Path file, String what, boolean alsoAsProcess) throws IOException {
    Outcome o = restoreOnce(p.replica(), what);
    lastMessage = o.errorLine();
    boolean good = checkRefusal(p, file, what, o);
    if (alsoAsProcess) { // the in-process run stands for the real command; check a few as real processes
      Outcome real = restoreAsProcess(p.replica());
      if (real.exit() == 0 || real.stackTrace() || real.errorLine().isEmpty()) {
        tally.find(Problem.BAD_INPUT, 0, "file", what + ": as a process, strata restore " + real);
        good = false;
      }
    }
    return good;
  }

  private boolean checkRefusal(Planted p, Path file, String what, Outcome o) {
    String fileName = file.getFileName().toString().replace(".ltx", "");
    String[] range = fileName.split("-");
    String shortRange = Long.toHexString(Long.parseLong(range[0], 16)) + "-"
        + Long.toHexString(Long.parseLong(range[1], 16));
    String problem;
    if (o.exit() == 0 && p.expected().digest().equals(o.digest()) && sameContent(file)) {
      // The LTX file checksum covers the decoded content, not the LZ4 bytes: a flipped match offset that copies
      // the same bytes (runs of zeros in SQLite pages) leaves the file's content, and the restore, unchanged.
      benign++;
      return true;
    } else if (o.exit() == 0) {
      problem = p.expected().digest().equals(o.digest())
          ? "undetected: restore succeeded although the file's decoded content differs (content restored right)"
          : "undetected and WRONG: restore succeeded with content " + o.describeContent();
    } else if (o.stackTrace()) {
      problem = "stack trace in the output: " + o.errorLine();
    } else if (o.errorLine().isEmpty()) {
      problem = "no 'strata: ' error line (exit " + o.exit() + "): " + o.tail();
    } else if (!o.errorLine().contains(range[0]) && !o.errorLine().contains(range[1])
        && !o.errorLine().contains(shortRange)) {
      problem = "error does not name the file: " + o.errorLine();
    } else if (o.leftovers()) {
      problem = "restore left its output behind after failing";
    } else {
      return true;
    }
    // One finding per file and kind of problem (bits of one header field fail alike), with a count.
    String kind = file.getFileName() + ": " + problem.replaceAll("[0-9a-f]{16}", "…").replaceAll("\\d+", "N");
    List<String> seen = problems.computeIfAbsent(kind, k -> new ArrayList<>());
    seen.add(what + ": " + problem);
    return false;
  }

  private final Map<String, List<String>> problems = new LinkedHashMap<>();

  /** Turns the problems collected by {@link #checkRefusal} into findings. */
  private void reportProblems() {
    for (List<String> same : problems.values()) {
      tally.find(Problem.BAD_INPUT, 0, "file", same.getFirst() + (same.size() == 1 ? ""
          : " (and " + (same.size() - 1) + " more corruptions of this file failing the same way)"));
    }
    problems.clear();
  }

  /** What one restore did. */
  record Outcome(int exit, String errorLine, boolean stackTrace, boolean leftovers, String digest, String tail,
      String describeContent) {
    boolean ok() {
      return exit == 0 && digest != null;
    }
  }

  private Outcome restoreOnce(Path replica, String what) throws IOException {
    Path out = dir.resolve("out").resolve("restored-" + (++runs) + ".db");
    Files.createDirectories(out.getParent());
    CliRunner.Result r = inProcess.run(List.of("restore", "-o", out.toString(), "file://" + replica));
    return outcome(r.exit(), r.stdout(), r.stderr(), r.threw(), out);
  }

  private Outcome restoreAsProcess(Path replica) throws IOException {
    Path out = dir.resolve("out").resolve("restored-" + (++runs) + ".db");
    CommandRun r = CommandRun.run(strata.command("restore", "-o", out.toString(), "file://" + replica),
        Duration.ofMinutes(2), dir.resolve("logs").resolve("restore-" + runs));
    return outcome(r.exit(), r.stdout(), r.stderr(), null, out);
  }

  private Outcome outcome(int exit, String stdout, String stderr, Throwable threw, Path out) throws IOException {
    String errorLine = stderr.lines().filter(l -> l.startsWith("strata: ")).findFirst().orElse("");
    boolean trace = threw != null || (stdout + "\n" + stderr).contains("\tat ")
        || (stdout + stderr).contains("Exception in thread");
    boolean leftovers;
    try (var s = Files.list(out.getParent())) {
      leftovers = exit != 0 && s.findAny().isPresent(); // the output, its .tmp, a download directory: anything
    }
    String digest = null, content = "";
    if (exit == 0 && Files.exists(out)) {
      WriterScript.DbDigest d = script.digest(out, "quick");
      digest = d.digest();
      content = "seq " + d.seq() + ", integrity " + d.integrity();
    }
    try (var s = Files.list(out.getParent())) {
      for (Path f : s.toList()) Files.deleteIfExists(f);
    }
    String tail = (stderr.isBlank() ? stdout : stderr).strip();
    if (tail.length() > 200) tail = tail.substring(tail.length() - 200);
    if (threw != null) tail = threw.toString();
    return new Outcome(exit, errorLine, trace, leftovers, digest, tail, content);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Planted replicas with a file missing or misnamed, and an output that exists

  private void plantedCases(Planted p) throws IOException {
    int good = 0, total = 0;
    if (p.files().size() >= 3) {
      Path middle = p.files().get(p.files().size() / 2);
      byte[] keep = Files.readAllBytes(middle);
      Files.delete(middle);
      total++;
      try {
        if (checkRefusal(p, middle, "missing file " + middle.getFileName(), restoreOnce(p.replica(), "gap"))) good++;
      } finally {
        Files.write(middle, keep);
      }
    }
    if (p.files().size() >= 2) {
      Path a = p.files().get(p.files().size() - 1), b = p.files().get(p.files().size() - 2);
      byte[] keepA = Files.readAllBytes(a);
      Files.write(a, Files.readAllBytes(b)); // the right name, another file's content
      total++;
      try {
        if (checkRefusal(p, a, "file holding another file's content " + a.getFileName(),
            restoreOnce(p.replica(), "swap"))) good++;
      } finally {
        Files.write(a, keepA);
      }
    }
    Path existing = dir.resolve("out").resolve("existing.db");
    Files.createDirectories(existing.getParent());
    Files.writeString(existing, "precious");
    total++;
    CliRunner.Result r = inProcess.run(List.of("restore", "-o", existing.toString(), "file://" + p.replica()));
    if (r.exit() != 0 && Files.readString(existing).equals("precious") && !r.stderr().contains("\tat ")) {
      good++;
    } else {
      tally.find(Problem.BAD_INPUT, 0, "file", "restore -o over an existing file: exit " + r.exit()
          + ", file " + (Files.readString(existing).equals("precious") ? "kept" : "OVERWRITTEN"));
    }
    Files.delete(existing);
    tally.notes.put("planted replicas", good + "/" + total + " refused cleanly (missing file, another file's "
        + "content under a name, restore over an existing output)");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Configs and URLs

  /** One command that must be refused: its name, and its arguments given a fresh directory holding app.db. */
  private record Refusal(String what, java.util.function.Function<Path, List<String>> args) {}

  private void configSweep(Path logs) throws Exception {
    Path template = Files.createDirectories(dir.resolve("config-db"));
    Oracle oracle = new Oracle(dir.resolve("config-oracle.tsv"));
    try (WriterProcess w = WriterProcess.start(script, template.resolve("app.db"), oracle, 7,
        logs.resolve("config-writer.log"))) {
      w.commit(3);
    }
    Map<String, java.util.function.Function<Path, String>> cases = new LinkedHashMap<>();
    cases.put("empty", d -> "");
    cases.put("yaml-syntax", d -> "dbs: [ {path: " + d.resolve("app.db") + "\n");
    cases.put("dbs-not-a-list", d -> "dbs: 5\n");
    cases.put("unknown-top-key", d -> "dbz:\n  - path: " + d.resolve("app.db") + replicas(d));
    cases.put("unknown-db-key", d -> "dbs:\n  - path: " + d.resolve("app.db") + "\n    replicaz:\n      - url: file://"
        + d.resolve("replica") + "\n");
    cases.put("unknown-replica-key", d -> "dbs:\n  - path: " + d.resolve("app.db") + "\n    replicas:\n      - urll: "
        + "file://" + d.resolve("replica") + "\n");
    cases.put("db-without-path", d -> "dbs:\n  - replicas:\n      - url: file://" + d.resolve("replica") + "\n");
    cases.put("unknown-scheme", d -> "dbs:\n  - path: " + d.resolve("app.db") + "\n    replicas:\n      - url: "
        + "ftp://host/x\n");
    cases.put("empty-url", d -> "dbs:\n  - path: " + d.resolve("app.db") + "\n    replicas:\n      - url: ''\n");
    cases.put("bad-sync-interval", d -> "dbs:\n  - path: " + d.resolve("app.db") + replicas(d)
        + "        sync-interval: soon\n");
    cases.put("negative-sync-interval", d -> "dbs:\n  - path: " + d.resolve("app.db") + replicas(d)
        + "        sync-interval: -5s\n");
    cases.put("s3-without-bucket", d -> "dbs:\n  - path: " + d.resolve("app.db")
        + "\n    replicas:\n      - type: s3\n        path: x\n");
    cases.put("tabs", d -> "dbs:\n\t- path: " + d.resolve("app.db") + "\n");
    cases.put("missing-database", d -> "dbs:\n  - path: " + d.resolve("nope/app.db") + replicas(d));
    cases.put("not-sqlite", d -> "dbs:\n  - path: " + d.resolve("text.db") + replicas(d));
    cases.put("binary", d -> null);
    List<Refusal> refusals = new ArrayList<>();
    for (var e : cases.entrySet()) {
      refusals.add(new Refusal("config " + e.getKey(), d -> {
        Path f = d.resolve("strata.yml");
        try {
          String text = e.getValue().apply(d);
          if (text != null) {
            Files.writeString(f, text);
          } else {
            byte[] garbage = new byte[512];
            new Random(e.getKey().hashCode()).nextBytes(garbage);
            Files.write(f, garbage);
          }
        } catch (IOException x) {
          throw new java.io.UncheckedIOException(x);
        }
        return List.of("replicate", "-config", f.toString());
      }));
    }
    refusals.add(new Refusal("config is a directory", d -> List.of("replicate", "-config", d.toString())));
    refusals.add(new Refusal("config missing", d -> List.of("replicate", "-config", d.resolve("nope.yml").toString())));
    int good = refuseAll(refusals, template, logs);
    tally.notes.put("malformed configs", good + "/" + refusals.size() + " refused cleanly (" + String.join(", ",
        cases.keySet()) + ", a directory, a missing file)");
    log.log("sweep: configs %d/%d refused cleanly", good, refusals.size());
  }

  private static String replicas(Path d) {
    return "\n    replicas:\n      - url: file://" + d.resolve("replica") + "\n";
  }

  private void urlSweep(Path logs) throws Exception {
    Path template = dir.resolve("config-db");
    List<String> malformed = List.of("ftp://host/path", "s3://", "s3:///path", "s3://bucket/p?endpoint=%zz",
        "s3://bucket/p?force-path-style=maybe", "s3://bucket/p?no-such-option=1", "sftp://", "sftp:///path",
        "sftp://host:notaport/p", "sftp://user@host:99999/p", "://nothing", "file://", "http://example.com/x",
        " ");
    List<Refusal> refusals = new ArrayList<>();
    for (String url : malformed) {
      refusals.add(new Refusal("replicate URL '" + url + "'", d -> List.of("replicate", d.resolve("app.db").toString(),
          url)));
      refusals.add(new Refusal("restore URL '" + url + "'", d -> List.of("restore", "-o", d.resolve("out.db")
          .toString(), url)));
    }
    // Valid URLs of replicas that are unreachable or empty: replicate would rightly wait for them; restore must fail.
    for (String url : List.of("s3://bucket/p?endpoint=http://127.0.0.1:1&region=us-east-1&access-key-id=a"
        + "&secret-access-key=b", "sftp://strata@127.0.0.1:1/p", "file:///nonexistent/replica")) {
      refusals.add(new Refusal("restore from unreachable or empty '" + url + "'", d -> List.of("restore", "-o",
          d.resolve("out.db").toString(), url)));
    }
    int good = refuseAll(refusals, template, logs);
    tally.notes.put("malformed URLs", good + "/" + refusals.size() + " refused cleanly (" + malformed.size()
        + " malformed URLs given to replicate and to restore; restore from an unreachable S3, SFTP and an empty "
        + "replica)");
    log.log("sweep: URLs %d/%d refused cleanly", good, refusals.size());
  }

  /** Runs the refusals three at a time, each in its own copy of {@code template}; returns how many passed. */
  private int refuseAll(List<Refusal> refusals, Path template, Path logs) throws Exception {
    java.util.concurrent.atomic.AtomicInteger good = new java.util.concurrent.atomic.AtomicInteger();
    List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(3)) {
      for (Refusal r : refusals) {
        int n = caseCounter.incrementAndGet();
        futures.add(pool.submit(() -> {
          Path d = dir.resolve("cases").resolve(Integer.toString(n));
          Files.createDirectories(d);
          Files.copy(template.resolve("app.db"), d.resolve("app.db"));
          Files.writeString(d.resolve("text.db"), "this is not a database\n".repeat(200));
          if (refusedCleanly(r.what(), r.args().apply(d), d, logs.resolve("refuse-" + n))) good.incrementAndGet();
          return null;
        }));
      }
      for (var f : futures) f.get();
    }
    return good.get();
  }

  private final java.util.concurrent.atomic.AtomicInteger caseCounter = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Runs a strata command that must fail: promptly (30 s for replicate, 2 minutes for restore), non-zero, its first output line {@code strata: …}, at
   * most one more line (a usage hint), no stack trace, nothing written next to the database (no meta directory, no
   * output file).
   */
  private boolean refusedCleanly(String what, List<String> args, Path caseDir, Path logPrefix) throws IOException {
    // A refusal takes a JVM start and a parse; a restore of an unreachable replica also its retries.
    Duration timeout = args.getFirst().equals("replicate") ? Duration.ofSeconds(30) : Duration.ofMinutes(2);
    CommandRun r = CommandRun.run(strata.command(args), timeout, logPrefix, caseDir);
    List<String> lines = (r.stderr() + "\n" + r.stdout()).lines().filter(l -> !l.isBlank()).toList();
    List<String> written;
    try (var files = Files.list(caseDir)) {
      written = files.map(f -> f.getFileName().toString())
          .filter(n -> !n.equals("app.db") && !n.equals("text.db") && !n.equals("strata.yml")).toList();
    }
    String problem = null;
    if (r.timedOut()) problem = "still running after " + timeout.toSeconds() + " s (killed)";
    else if (r.exit() == 0) problem = "exit 0";
    else if (r.hasStackTrace()) problem = "stack trace: " + lines.getFirst();
    else if (lines.isEmpty() || !lines.getFirst().startsWith("strata: ")) {
      problem = "no one-line 'strata: ' error: " + (lines.isEmpty() ? "(silent)" : lines.getFirst());
    } else if (lines.size() > 2) problem = lines.size() + " lines of output: " + String.join(" | ", lines);
    else if (!written.isEmpty()) problem = "wrote " + written + " before refusing";
    if (problem == null) return true;
    tally.find(Problem.BAD_INPUT, 0, "-", what + ": " + problem + " (" + String.join(" ", args.subList(0, 1)) + " in "
        + caseDir + ")");
    return false;
  }
}
