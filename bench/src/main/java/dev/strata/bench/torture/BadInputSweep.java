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
    }
    configSweep(logs);
    urlSweep(logs, planted);
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
    tally.find(Problem.BAD_INPUT, 0, "file", what + ": " + problem);
    return false;
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
    CommandRun r = CommandRun.run(strata.command("restore", "-o", out.toString(), "file://" + replica), strata.env(),
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

  private void configSweep(Path logs) throws IOException {
    Path dbDir = Files.createDirectories(dir.resolve("config-db"));
    Path db = dbDir.resolve("app.db");
    Oracle oracle = new Oracle(dir.resolve("config-oracle.tsv"));
    try (WriterProcess w = WriterProcess.start(script, db, oracle, 7, logs.resolve("config-writer.log"))) {
      w.commit(3);
    }
    Path notSqlite = dbDir.resolve("text.db");
    Files.writeString(notSqlite, "this is not a database\n".repeat(200));
    String replica = "file://" + dir.resolve("config-replica");
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("empty", "");
    cases.put("yaml-syntax", "dbs: [ {path: " + db + "\n");
    cases.put("dbs-not-a-list", "dbs: 5\n");
    cases.put("unknown-top-key", "dbz:\n  - path: " + db + "\n    replicas:\n      - url: " + replica + "\n");
    cases.put("unknown-db-key", "dbs:\n  - path: " + db + "\n    replicaz:\n      - url: " + replica + "\n");
    cases.put("unknown-replica-key", "dbs:\n  - path: " + db + "\n    replicas:\n      - urll: " + replica + "\n");
    cases.put("db-without-path", "dbs:\n  - replicas:\n      - url: " + replica + "\n");
    cases.put("unknown-scheme", "dbs:\n  - path: " + db + "\n    replicas:\n      - url: ftp://host/x\n");
    cases.put("empty-url", "dbs:\n  - path: " + db + "\n    replicas:\n      - url: ''\n");
    cases.put("bad-sync-interval", "dbs:\n  - path: " + db + "\n    replicas:\n      - url: " + replica
        + "\n        sync-interval: soon\n");
    cases.put("negative-sync-interval", "dbs:\n  - path: " + db + "\n    replicas:\n      - url: " + replica
        + "\n        sync-interval: -5s\n");
    cases.put("s3-without-bucket", "dbs:\n  - path: " + db + "\n    replicas:\n      - type: s3\n        path: x\n");
    cases.put("tabs", "dbs:\n\t- path: " + db + "\n");
    cases.put("missing-database", "dbs:\n  - path: " + dbDir.resolve("nope/app.db") + "\n    replicas:\n      - url: "
        + replica + "\n");
    cases.put("not-sqlite", "dbs:\n  - path: " + notSqlite + "\n    replicas:\n      - url: " + replica + "\n");
    byte[] garbage = new byte[512];
    rng.nextBytes(garbage);
    Path configs = Files.createDirectories(dir.resolve("configs"));
    int good = 0;
    List<String> runsList = new ArrayList<>();
    for (var e : cases.entrySet()) {
      Path f = configs.resolve(e.getKey() + ".yml");
      Files.writeString(f, e.getValue());
      runsList.add(e.getKey());
      if (refusedCleanly("config " + e.getKey(), List.of("replicate", "-config", f.toString()), dbDir, logs)) good++;
    }
    Path g = configs.resolve("binary.yml");
    Files.write(g, garbage);
    if (refusedCleanly("config binary", List.of("replicate", "-config", g.toString()), dbDir, logs)) good++;
    if (refusedCleanly("config is a directory", List.of("replicate", "-config", configs.toString()), dbDir, logs)) {
      good++;
    }
    if (refusedCleanly("config missing", List.of("replicate", "-config", configs.resolve("nope.yml").toString()),
        dbDir, logs)) {
      good++;
    }
    int total = cases.size() + 3;
    tally.notes.put("malformed configs", good + "/" + total + " refused cleanly (" + String.join(", ", runsList)
        + ", binary, directory, missing)");
    log.log("sweep: configs %d/%d refused cleanly", good, total);
  }

  private void urlSweep(Path logs, Planted planted) throws IOException {
    Path dbDir = dir.resolve("config-db");
    Path db = dbDir.resolve("app.db");
    List<String> malformed = List.of("ftp://host/path", "s3://", "s3:///path", "s3://bucket/p?endpoint=%zz",
        "s3://bucket/p?force-path-style=maybe", "s3://bucket/p?no-such-option=1", "sftp://", "sftp:///path",
        "sftp://host:notaport/p", "sftp://user@host:99999/p", "://nothing", "file://", "http://example.com/x",
        " ", "s3://bucket/p?endpoint=http://127.0.0.1:1&region=us-east-1");
    int good = 0, total = 0;
    for (String url : malformed) {
      if (!url.contains("127.0.0.1")) { // an unreachable but valid URL is a replica that is down, not bad input
        total++;
        if (refusedCleanly("replicate URL '" + url + "'", List.of("replicate", db.toString(), url), dbDir, logs)) {
          good++;
        }
      }
      total++;
      Path out = dir.resolve("out").resolve("url-" + total + ".db");
      if (refusedCleanly("restore URL '" + url + "'", List.of("restore", "-o", out.toString(), url), dbDir, logs)
          && !Files.exists(out)) {
        good++;
      }
    }
    total++;
    Path out = dir.resolve("out").resolve("url-empty-replica.db");
    if (refusedCleanly("restore from an empty replica", List.of("restore", "-o", out.toString(),
        "file://" + dir.resolve("no-such-replica")), dbDir, logs)) {
      good++;
    }
    tally.notes.put("malformed URLs", good + "/" + total + " refused cleanly by replicate and restore");
    log.log("sweep: URLs %d/%d refused cleanly", good, total);
  }

  /**
   * Runs a strata command that must fail: within 2 minutes, non-zero, its first output line {@code strata: …}, at
   * most one more line (a usage hint), no stack trace, and no meta directory written next to the database.
   */
  private boolean refusedCleanly(String what, List<String> args, Path dbDir, Path logs) throws IOException {
    Path meta = dbDir.resolve(".app.db-strata");
    CommandRun r = CommandRun.run(strata.command(args), strata.env(), Duration.ofMinutes(2),
        logs.resolve("refuse-" + (++runs)));
    List<String> lines = (r.stderr() + "\n" + r.stdout()).lines().filter(l -> !l.isBlank()).toList();
    String problem = null;
    if (r.timedOut()) problem = "still running after 2 minutes (killed)";
    else if (r.exit() == 0) problem = "exit 0";
    else if (r.hasStackTrace()) problem = "stack trace: " + lines.getFirst();
    else if (lines.isEmpty() || !lines.getFirst().startsWith("strata: ")) {
      problem = "no one-line 'strata: ' error: " + (lines.isEmpty() ? "(silent)" : lines.getFirst());
    } else if (lines.size() > 2) problem = lines.size() + " lines of output: " + String.join(" | ", lines);
    else if (Files.exists(meta)) problem = "wrote " + meta + " before refusing";
    if (Files.exists(meta)) TortureRun.deleteTree(meta);
    if (problem == null) return true;
    tally.find(Problem.BAD_INPUT, 0, "-", what + ": " + problem);
    return false;
  }
}
