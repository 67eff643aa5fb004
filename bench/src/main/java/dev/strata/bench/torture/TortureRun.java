package dev.strata.bench.torture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.bench.torture.Tally.Problem;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.level.LevelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One torture run: a writer that is not Strata commits to a database while {@code strata replicate} copies it to
 * every replica target at once; each cycle injects one fault drawn from the seed, restores while everything runs
 * (lag), then stops the agent with SIGTERM and checks every replica (chain, latest, earlier points, a timestamp).
 *
 * <p>How a restored file is judged. The writer bumps {@code torture_meta.seq} in every transaction, so a restored
 * file names the commit it claims to be; its content digest must equal the oracle's digest for that commit (any
 * state the writer ever committed passes this, any torn or invented state fails). TXIDs are the agent's numbering
 * of the commits it captured: one per commit it saw, but commits made while it was down and then checkpointed away
 * collapse into one snapshot TXID. So there is no fixed TXID→seq formula; instead the harness learns the mapping
 * from restores and requires it to be a function (the same TXID always restores to the same commit) that is
 * monotonic (a higher TXID never restores to an older commit). What each restore must reach:
 * <ul>
 *   <li>latest, after the writer paused and the agent exited on SIGTERM (final sync): exactly the writer's last
 *       commit. Anything older is lost commits.
 *   <li>latest, while both run: some commit; the lag (restore start minus the commit time of the first commit the
 *       restore lacks) must be within sync interval + twice the duration of the fault that just hit this replica
 *       (retries back off exponentially) + grace.
 *   <li>-txid T at a restore point read from the replica's headers: a commit whose t0 is not after the point's
 *       header timestamp, whose database checksum equals the point's PostApplyChecksum.
 *   <li>-timestamp X: a commit whose t0 is not after X, and not older than the commit of a restore point whose
 *       timestamp is at or before X.
 * </ul>
 */
final class TortureRun {
  private static final Duration AGENT_STOP_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration AGENT_READY_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration RESTORE_TIMEOUT = Duration.ofMinutes(10);
  private static final long IDLE_WINDOW_MILLIS = 11_000;

  private final TortureOptions opt;
  private final PrintStream out;
  private final Tally tally = new Tally();
  private final Random faultRng;
  private final Random choiceRng;
  private final long writerSeed;
  private final long pumpSeed;
  private final long startMillis = System.currentTimeMillis();
  /** The last fault that hit each replica (by target name), for the lag allowance of later cycles. */
  private final Map<String, FaultEvent> lastFaults = new HashMap<>();

  private Path work;
  private Path logs;
  private Path restoresDir;
  private Path db;
  private WriterScript script;
  private Oracle oracle;
  private WriterProcess writer;
  private WriterPump pump;
  private StrataLauncher strata;
  private final List<ReplicaTarget> targets = new ArrayList<>();
  private MetaDisk metaDisk;
  private AgentProcess agent;
  private final Map<String, TreeMap<Long, Long>> seqByTxid = new HashMap<>();
  /** Every restore point a chain check reached, by replica: each must stay reachable while inside retention. */
  private final Map<String, Map<Long, ChainCheck.RestorePoint>> seenPoints = new HashMap<>();
  private int cycle;
  private int restoreCount;
  private long slowestStartMillis;
  /** Replica names the agent said, at its last stop, it could not bring up to date (it keeps their files). */
  private Set<String> leftBehindAtStop = Set.of();
  private Backends backends;
  private final CliRunner inProcess = CliRunner.inProcess();

  TortureRun(TortureOptions opt, PrintStream out) {
    this.opt = opt;
    this.out = out;
    Random master = new Random(opt.seed());
    this.writerSeed = master.nextLong() & Long.MAX_VALUE;
    this.pumpSeed = master.nextLong();
    this.faultRng = new Random(master.nextLong());
    this.choiceRng = new Random(master.nextLong());
  }

  /** A fault as it happened: when, for how long, which targets it hit. */
  record FaultEvent(FaultKind kind, long startMillis, long endMillis, Set<String> hits, String detail) {
    long durationMillis() {
      return endMillis - startMillis;
    }
  }

  /** Runs cycles and the sweep as the options say; returns what was found. */
  Tally run() throws Exception {
    work = opt.workDir().toAbsolutePath();
    if (Files.exists(work)) DirectoryTree.delete(work);
    Files.createDirectories(work);
    logs = Files.createDirectories(work.resolve("logs"));
    restoresDir = Files.createDirectories(work.resolve("restores"));
    script = WriterScript.install(work);
    strata = opt.strataScript() != null ? StrataLauncher.script(opt.strataScript()) : StrataLauncher.sameClasspath();
    strata.directory(work);
    log("seed %d — reproduce with: %s", opt.seed(), opt.reproduce());
    tally.onFinding(f -> log("! %s (%s): %s", f.problem(), f.target(), f.detail()));
    log("work directory %s", work);
    // Interrupted (Ctrl-C, SIGTERM): leave no agent running and nothing mounted.
    Thread cleanup = new Thread(this::tearDown, "torture-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      if (opt.cycles()) runCycles();
      if (opt.sweep()) {
        new BadInputSweep(strata, script, work.resolve("sweep"), tally, new Random(opt.seed() ^ 0x5eedL),
            opt.sweepSamples(), this::log).run();
      }
    } catch (Exception e) {
      // Whatever stopped the harness (a writer that failed, an answer it did not expect) is a finding too; the
      // report still prints.
      tally.find(e.getMessage() != null && e.getMessage().startsWith("writer") ? Problem.WRITER : Problem.HARNESS,
          cycle, "-", "harness stopped: " + e);
      java.io.StringWriter trace = new java.io.StringWriter();
      e.printStackTrace(new java.io.PrintWriter(trace));
      if (logs != null) Files.writeString(logs.resolve("harness-error.txt"), trace.toString());
    } finally {
      tearDown();
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // already shutting down
      }
    }
    return tally;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Set-up and tear-down

  private void runCycles() throws Exception {
    Path dbDir = Files.createDirectories(work.resolve("db"));
    db = dbDir.resolve("app.db");
    oracle = new Oracle(work.resolve("oracle.tsv"));
    writer = WriterProcess.start(script, db, oracle, writerSeed, logs.resolve("writer.log"));
    writer.commit(20);
    metaDisk = MetaDisk.prepare(dbDir.resolve(".app.db-strata"), logs, 48L << 20);
    tally.notes.put("meta disk", metaDisk.description());
    backends = new Backends(work.resolve("replicas"), logs, opt.backends());
    targets.addAll(backends.start(strata));
    for (ReplicaTarget t : targets) seqByTxid.put(t.name(), new TreeMap<>());
    log("replicas: %s", String.join(", ", targets.stream().map(t -> t.name() + "=" + t.agentUrl()).toList()));
    startAgent();
    awaitFirstBackup();
    pump = new WriterPump(writer, pumpSeed, opt.writerGapMillis());
    pump.resume();

    List<FaultKind> firstPass = applicableFaults();
    Collections.shuffle(firstPass, faultRng);
    long deadline = startMillis + opt.duration().toMillis();
    while (true) {
      cycle++;
      tally.cycles = cycle;
      FaultKind kind = !firstPass.isEmpty() ? firstPass.removeFirst() : drawFault();
      // Steady state first: the agent has been up a while, the writer commits; lag within sync + grace.
      sleep(1000 + faultRng.nextLong(4000));
      checkAgentAlive("before " + kind.label());
      liveRestore(targets.get(choiceRng.nextInt(targets.size())), "steady state", 0);
      FaultEvent ev = inject(kind);
      for (String hit : ev.hits()) lastFaults.put(hit, ev);
      tally.fault(kind);
      log("cycle %d: %s — %s (%d ms)", cycle, kind.label(), ev.detail(), ev.durationMillis());
      pump.checkFailure();
      if (kind != FaultKind.IDLE) {
        sleep(opt.syncInterval().toMillis() + faultRng.nextLong(2 * opt.syncInterval().toMillis() + 1));
        checkAgentAlive("after " + kind.label());
        ReplicaTarget t = targets.get(choiceRng.nextInt(targets.size()));
        liveRestore(t, kind.label(), ev.hits().contains(t.name()) ? ev.durationMillis() : 0);
      }
      boolean last = opt.maxCycles() > 0 ? cycle >= opt.maxCycles() : System.currentTimeMillis() >= deadline;
      if (last) {
        log("final check");
        verifyStopped(true, false);
        break;
      }
      if (cycle % opt.verifyEvery() == 0) verifyStopped(false, true);
    }
    JsonNode stats = writer.stats();
    tally.notes.put("writer", String.format(
        "%d commits (%s); checkpoints %s, busy %d; vacuums %d; replacements %d; reconnects %d",
        stats.path("commits").asLong(), compact(stats.path("kinds")), compact(stats.path("checkpoints")),
        stats.path("checkpoint_busy").asInt(), stats.path("vacuums").asInt(), stats.path("replacements").asInt(),
        stats.path("reconnects").asInt()));
    tally.notes.put("agent start-up", "slowest start to '" + AgentProcess.READY + "': " + slowestStartMillis + " ms");
    // Invariant 3: the application is never blocked for long. Reported, not asserted (machines are noisy).
    tally.notes.put("writer blocked", String.format("slowest commit %.0f ms (%s), slowest checkpoint %.0f ms (%s)",
        stats.path("max_commit_ms").asDouble(), stats.path("max_commit_kind").asText(),
        stats.path("max_checkpoint_ms").asDouble(), stats.path("max_checkpoint_mode").asText()));
  }

  private static String compact(JsonNode obj) {
    List<String> parts = new ArrayList<>();
    obj.properties().forEach(e -> parts.add(e.getKey() + " " + e.getValue().asText()));
    return String.join(", ", parts);
  }

  /** The cycles start once every replica holds the agent's first snapshot (a fresh replica has nothing to restore). */
  private void awaitFirstBackup() throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    for (ReplicaTarget t : targets) {
      while (fileCount(t) == 0) {
        checkAgentAlive("while waiting for the first backup");
        if (System.currentTimeMillis() > deadline) {
          throw new IOException("no first backup on " + t.name() + " within 120 s of starting strata replicate");
        }
        sleep(100);
      }
    }
    log("first backup on every replica after %d ms", System.currentTimeMillis() - agent.startedAt());
  }

  private static int fileCount(ReplicaTarget t) throws IOException {
    int n = 0;
    for (int level = 0; level <= 9; level++) n += t.client().listFiles(level).size();
    return n;
  }

  private List<FaultKind> applicableFaults() {
    List<FaultKind> kinds = new ArrayList<>();
    for (FaultKind k : opt.faults()) {
      if (k.isStorageFault() && targets.stream().noneMatch(t -> t.storageFaults().contains(k))) continue;
      if (k == FaultKind.META_DISK_FULL && metaDisk.method() == MetaDisk.Method.NONE) continue;
      kinds.add(k);
    }
    return kinds;
  }

  private static final Map<FaultKind, Integer> WEIGHTS = Map.ofEntries(
      Map.entry(FaultKind.KILL9, 6), Map.entry(FaultKind.KILL9_CHECKPOINT, 6), Map.entry(FaultKind.CHECKPOINT_LIVE, 4),
      Map.entry(FaultKind.DB_REPLACED_LIVE, 2), Map.entry(FaultKind.DB_REPLACED_OFFLINE, 2),
      Map.entry(FaultKind.META_DISK_FULL, 3), Map.entry(FaultKind.STORAGE_ERRORS, 3),
      Map.entry(FaultKind.STORAGE_RESETS, 3), Map.entry(FaultKind.STORAGE_STALL, 3), Map.entry(FaultKind.SFTP_DROP, 3),
      Map.entry(FaultKind.FILE_READONLY, 2), Map.entry(FaultKind.IDLE, 1));

  private FaultKind drawFault() {
    List<FaultKind> kinds = applicableFaults();
    int total = kinds.stream().mapToInt(WEIGHTS::get).sum();
    int r = faultRng.nextInt(total);
    for (FaultKind k : kinds) {
      r -= WEIGHTS.get(k);
      if (r < 0) return k;
    }
    return kinds.getLast();
  }

  /** Stops everything this run started; safe to call twice (the shutdown hook and the normal end). */
  private synchronized void tearDown() {
    if (pump != null) pump.close();
    pump = null;
    if (agent != null && agent.alive()) {
      try {
        agent.kill9();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (ReplicaTarget t : targets) {
      try {
        t.endFault();
      } catch (IOException e) {
        log("cleanup: %s", e.getMessage());
      }
    }
    try {
      if (metaDisk != null) metaDisk.close();
      metaDisk = null;
      if (writer != null) writer.close();
      writer = null;
      if (backends != null) backends.close();
      backends = null;
    } catch (IOException e) {
      log("cleanup: %s", e.getMessage());
    }
  }

  /** Deletes the work directory (after a passing run, unless --keep). */
  void deleteWorkDir() throws IOException {
    if (work != null && Files.exists(work)) DirectoryTree.delete(work);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The agent

  private List<String> agentArgs() {
    List<String> args = new ArrayList<>(List.of("replicate", "-sync-interval",
        TortureOptions.format(opt.syncInterval()), db.toString()));
    for (ReplicaTarget t : targets) args.add(t.agentUrl());
    return args;
  }

  /** Starts the agent and waits until it says it replicates (its start-up snapshot, if any, is done). */
  private void startAgent() throws IOException, InterruptedException {
    startAgentNoWait();
    long start = System.currentTimeMillis();
    if (!agent.awaitReady(AGENT_READY_TIMEOUT)) {
      tally.find(Problem.AGENT, cycle, "-", "strata replicate did not log '" + AgentProcess.READY + "' within "
          + AGENT_READY_TIMEOUT.toSeconds() + " s of its start" + (agent.alive() ? "" : " (it exited "
          + agent.exitCode() + ")") + "; see logs/agent.log");
      return;
    }
    long took = System.currentTimeMillis() - start;
    if (took > slowestStartMillis) slowestStartMillis = took;
  }

  private void startAgentNoWait() throws IOException {
    agent = AgentProcess.start(strata, agentArgs(), logs.resolve("agent.log"));
    tally.agentEvent("starts");
  }

  /** An agent that exited by itself is a finding; it is restarted so the run goes on. */
  private void checkAgentAlive(String when) throws IOException, InterruptedException {
    if (agent.alive()) return;
    tally.find(Problem.AGENT, cycle, "-", "strata replicate exited on its own (exit " + agent.exitCode() + ") "
        + when + "; see logs/agent.log");
    log("agent exited on its own (exit %d) %s — restarting", agent.exitCode(), when);
    startAgent();
  }

  private void killAgent() throws InterruptedException {
    agent.kill9();
    tally.agentEvent("kill -9");
  }

  /**
   * SIGTERM: the agent must do a final sync and exit 0. Sent once the agent said it replicates, so that it tests
   * the final sync rather than a JVM still loading classes (a SIGTERM that early is a separate matter).
   */
  private void stopAgent() throws InterruptedException, IOException {
    agent.awaitReady(AGENT_READY_TIMEOUT);
    long start = System.currentTimeMillis();
    OptionalInt exit = agent.terminate(AGENT_STOP_TIMEOUT);
    tally.agentEvent("SIGTERM");
    if (exit.isEmpty()) {
      tally.find(Problem.AGENT, cycle, "-", "strata replicate did not exit within " + AGENT_STOP_TIMEOUT.toSeconds()
          + " s of SIGTERM (killed)");
    } else if (exit.getAsInt() != 0) {
      tally.find(Problem.AGENT, cycle, "-", "strata replicate exited " + exit.getAsInt()
          + " after SIGTERM (want 0 after a final sync); see logs/agent.log");
    }
    long took = System.currentTimeMillis() - start;
    if (took > 10_000) log("agent took %d ms to stop", took);
    Set<String> behind = new java.util.HashSet<>();
    for (String line : agent.output().lines().filter(l -> l.contains("did not take every file")).toList()) {
      for (ReplicaTarget t : targets) if (line.contains("replica " + t.name() + "-")) behind.add(t.name());
    }
    leftBehindAtStop = behind;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Faults

  private FaultEvent inject(FaultKind kind) throws Exception {
    long start = System.currentTimeMillis();
    Set<String> all = Set.copyOf(targets.stream().map(ReplicaTarget::name).toList());
    String detail;
    Set<String> hits = all;
    switch (kind) {
      case KILL9 -> {
        sleep(faultRng.nextLong(3 * opt.syncInterval().toMillis() + 1));
        start = System.currentTimeMillis();
        killAgent();
        long down = faultRng.nextLong(2500);
        sleep(down);
        detail = "killed, down " + down + " ms, restarted";
        if (faultRng.nextInt(3) == 0) { // and once more while it starts up (opening state, first snapshot)
          startAgentNoWait();
          long upFor = faultRng.nextLong(3000);
          sleep(upFor);
          killAgent();
          detail += ", killed again " + upFor + " ms into its start-up, restarted";
        }
        startAgent();
      }
      case KILL9_CHECKPOINT -> {
        sleep(faultRng.nextLong(3 * opt.syncInterval().toMillis() + 1));
        start = System.currentTimeMillis();
        killAgent();
        sleep(200 + faultRng.nextLong(800));
        String mode = pickCheckpointMode(true);
        JsonNode r = writer.checkpoint(mode);
        String second = "";
        if (faultRng.nextBoolean()) {
          writer.commit(1 + faultRng.nextInt(40));
          String mode2 = pickCheckpointMode(true);
          JsonNode r2 = writer.checkpoint(mode2);
          second = ", then " + mode2 + " busy=" + r2.path("busy").asInt();
        }
        sleep(faultRng.nextLong(1000));
        startAgent();
        detail = "killed; while down " + mode + " busy=" + r.path("busy").asInt() + " log=" + r.path("log").asInt()
            + second + "; restarted";
      }
      case CHECKPOINT_LIVE -> {
        String mode = pickCheckpointMode(false);
        JsonNode r = writer.checkpoint(mode);
        detail = mode + " busy=" + r.path("busy").asInt() + " log=" + r.path("log").asInt() + " checkpointed="
            + r.path("checkpointed").asInt();
      }
      case DB_REPLACED_LIVE -> {
        pump.pause();
        JsonNode r = writer.replaceDatabase();
        pump.resume();
        detail = "replaced under the running agent, page size " + r.path("page_size").asInt();
      }
      case DB_REPLACED_OFFLINE -> {
        pump.pause();
        boolean kill = faultRng.nextBoolean();
        if (kill) killAgent();
        else stopAgent();
        JsonNode r = writer.replaceDatabase();
        writer.commit(faultRng.nextInt(30));
        startAgent();
        pump.resume();
        detail = "agent " + (kill ? "killed" : "stopped") + ", replaced (page size " + r.path("page_size").asInt()
            + "), restarted";
      }
      case META_DISK_FULL -> {
        detail = metaDisk.fill();
        long hold = faultDuration();
        sleep(hold);
        metaDisk.release();
        detail += " for " + hold + " ms";
      }
      case STORAGE_ERRORS, STORAGE_RESETS, STORAGE_STALL, SFTP_DROP, FILE_READONLY -> {
        List<ReplicaTarget> able = targets.stream().filter(t -> t.storageFaults().contains(kind)).toList();
        ReplicaTarget t = able.get(faultRng.nextInt(able.size()));
        detail = t.name() + ": " + t.startFault(kind, faultRng);
        long hold = faultDuration();
        try {
          sleep(hold);
        } finally {
          t.endFault();
        }
        detail += " for " + hold + " ms";
        hits = Set.of(t.name());
      }
      case IDLE -> detail = idleCheck();
      default -> throw new IllegalStateException(kind.toString());
    }
    return new FaultEvent(kind, start, System.currentTimeMillis(), hits, detail);
  }

  private long faultDuration() {
    long base = 500 + faultRng.nextLong(4500);
    return faultRng.nextInt(10) == 0 ? base * 4 : base;
  }

  /** While the agent is down, the modes that restart the WAL are the interesting ones. */
  private String pickCheckpointMode(boolean agentDown) {
    String[] modes = {"PASSIVE", "FULL", "RESTART", "TRUNCATE"};
    int[] weights = agentDown ? new int[] {1, 1, 3, 4} : new int[] {2, 2, 2, 2};
    int r = faultRng.nextInt(java.util.Arrays.stream(weights).sum());
    for (int i = 0; i < modes.length; i++) {
      r -= weights[i];
      if (r < 0) return modes[i];
    }
    return modes[3];
  }

  /**
   * Invariant 4: with no commits, no replica traffic beyond retention. Level-1 compaction runs at wall-clock
   * multiples of 10 s: the first boundary after the pause may compact the last changes, so the window opens 1.5 s
   * after it and lasts 11 s, spanning the next boundary, where an idle agent must do nothing (a 5-minute boundary,
   * where level 2 may compact earlier changes, is kept out of the window).
   */
  private String idleCheck() throws Exception {
    pump.pause();
    try {
      long minSettle = Math.max(3 * opt.syncInterval().toMillis(), 1000);
      long boundary = ((System.currentTimeMillis() + minSettle) / 10_000 + 1) * 10_000;
      while (boundary / 300_000 != (boundary + IDLE_WINDOW_MILLIS + 1500) / 300_000
          || boundary % 300_000 == 0) {
        boundary += 10_000;
      }
      sleep(boundary + 1500 - System.currentTimeMillis());
      Map<String, Object> before = idleSnapshot();
      sleep(IDLE_WINDOW_MILLIS);
      Map<String, Object> after = idleSnapshot();
      List<String> changed = new ArrayList<>();
      List<String> allowed = new ArrayList<>();
      for (String name : before.keySet()) {
        Object b = before.get(name), a = after.get(name);
        if (b.equals(a)) continue;
        if (b instanceof IdleFiles bf && a instanceof IdleFiles af) {
          // Deletions are retention; new files at level >= 1 that hold no TXID beyond what existed are compaction
          // of earlier changes. A new level-0 file, or anything reaching past the old top, is traffic while idle.
          List<String> added = new ArrayList<>(af.files());
          added.removeAll(bf.files());
          List<String> removed = new ArrayList<>(bf.files());
          removed.removeAll(af.files());
          List<String> bad = added.stream().filter(f -> f.startsWith("0/") || IdleFiles.maxTxid(f) > bf.maxTxid())
              .toList();
          if (!bad.isEmpty()) changed.add(name + ": new " + bad);
          if (added.size() > bad.size() || !removed.isEmpty()) {
            allowed.add(name + ": compaction " + (added.size() - bad.size()) + ", retention " + removed.size());
          }
        } else if (b instanceof IdleRequests br && a instanceof IdleRequests ar) {
          List<String> fresh = ar.log().subList(br.count(), ar.log().size());
          List<String> bad = br.traffic(fresh);
          if (!bad.isEmpty()) changed.add(name + ": " + bad.size() + " requests " + bad.subList(0, Math.min(5,
              bad.size())));
          if (fresh.size() > bad.size()) allowed.add(name + ": compaction or retention " + (fresh.size() - bad.size()));
        }
      }
      if (!changed.isEmpty()) {
        tally.find(Problem.IDLE_TRAFFIC, cycle, "-", "invariant 4: replica traffic while idle for " + IDLE_WINDOW_MILLIS / 1000 + " s: "
            + String.join("; ", changed));
      }
      if (!allowed.isEmpty()) tally.notes.merge("idle", String.join("; ", allowed), (x, y) -> x + "; " + y);
      return changed.isEmpty() ? IDLE_WINDOW_MILLIS / 1000 + " s without commits: no replica traffic"
          : "traffic while idle: " + changed;
    } finally {
      pump.resume();
    }
  }

  /**
   * A replica's request log at one moment, and its files then (listed directly, not through the logged proxy).
   */
  record IdleRequests(int count, List<String> log, IdleFiles files) {
    /**
     * The requests among {@code fresh} (made after this moment) that are traffic while idle. Allowed: DELETEs
     * (retention); writing a new file to level 1 or above that holds no TXID beyond the replica's top then, and
     * reading files whose range such a write covers (compaction of changes made before the pause: the agent
     * compacts at the first boundary after them, up to its 5-s upkeep tick plus the compaction's own time late).
     * Anything else — a level-0 upload, a file reaching past the top, rewriting a file that existed, a LIST, HEAD
     * or GET no compaction explains — is traffic.
     */
    List<String> traffic(List<String> fresh) {
      List<LevelRange> outputs = new ArrayList<>();
      for (String r : fresh) {
        LevelRange f = LevelRange.ofRequest(r);
        boolean write = r.startsWith("PUT ") || r.startsWith("POST ") && !r.contains("?delete");
        if (write && f != null && f.level() >= 1 && f.max() <= files.maxTxid() && !files.holds(f)) outputs.add(f);
      }
      List<String> bad = new ArrayList<>();
      for (String r : fresh) {
        LevelRange f = LevelRange.ofRequest(r);
        if (r.startsWith("DELETE ") || r.startsWith("POST ") && r.contains("?delete")) continue;
        if (f != null && outputs.contains(f) && !r.startsWith("GET ") && !r.startsWith("HEAD ")) continue;
        if (f != null && r.startsWith("GET ") && outputs.stream().anyMatch(o -> o.covers(f))) continue;
        bad.add(r);
      }
      return bad;
    }
  }

  /** A file named in a request or a listing: its level and TXID range. */
  record LevelRange(int level, long min, long max) {
    private static final Pattern IN_PATH =
        Pattern.compile("/(\\d)/([0-9a-f]{16}-[0-9a-f]{16}\\.ltx)(?:[?# ]|$)");

    /** The file a logged request ({@code METHOD /bucket/prefix/<level>/<name>?query -> FAULT}) names, or null. */
    static LevelRange ofRequest(String request) {
      var m = IN_PATH.matcher(request);
      if (!m.find()) return null;
      var r = dev.strata.ltx.LtxFileName.parse(m.group(2));
      return new LevelRange(Integer.parseInt(m.group(1)), r.min(), r.max());
    }

    /** True when {@code input} could be an input of a compaction into this file: a lower level, inside its range. */
    boolean covers(LevelRange input) {
      return input.level() < level && input.min() >= min && input.max() <= max;
    }
  }

  /** A replica's files as "level/name@time", and the highest TXID among them. */
  record IdleFiles(List<String> files, long maxTxid) {
    /** True when a file of this level and range was listed. */
    boolean holds(LevelRange f) {
      String prefix = f.level() + "/" + Txid.format(f.min()) + "-" + Txid.format(f.max())
          + ".ltx@";
      return files.stream().anyMatch(e -> e.startsWith(prefix));
    }

    static long maxTxid(String entry) {
      String name = entry.substring(entry.indexOf('/') + 1, entry.indexOf('@'));
      return dev.strata.ltx.LtxFileName.parse(name).max();
    }
  }

  private Map<String, Object> idleSnapshot() throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    for (ReplicaTarget t : targets) {
      List<String> requests = t.requestLog();
      if (requests != null) m.put(t.name() + " requests", new IdleRequests(requests.size(), requests, fileListing(t)));
      else m.put(t.name() + " files", fileListing(t));
    }
    return m;
  }

  private static IdleFiles fileListing(ReplicaTarget t) throws IOException {
    List<String> files = new ArrayList<>();
    long max = 0;
    for (int level = 0; level <= 9; level++) {
      for (var f : t.client().listFiles(level)) {
        files.add(level + "/" + f.fileName() + "@" + f.createdAt());
        max = Math.max(max, f.maxTxid());
      }
    }
    return new IdleFiles(files, max);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Restores and their verdicts

  /** One restore and what the harness measured on its output. */
  record Restored(CommandRun run, WriterScript.DbDigest digest, long checksum, long startMillis, Path file) {
    private static final java.util.regex.Pattern TXID = java.util.regex.Pattern.compile("to TXID ([0-9a-f]{16})");

    private static final java.util.regex.Pattern MERGE_SECONDS =
        java.util.regex.Pattern.compile("restore: restored TXID [0-9a-f]{16} .* in ([0-9.]+) s:");

    /** The TXID strata restore says it restored to ("restored … to TXID …"), or -1. */
    long txid() {
      var m = TXID.matcher(run.stdout() + "\n" + run.stderr());
      return m.find() ? Long.parseUnsignedLong(m.group(1), 16) : -1;
    }

    /**
     * About when the restore listed the replica: its end minus the time its final line says the work after planning
     * took. A process's JVM start (half a second or more) is thus not counted as lag; where the line is missing,
     * the start of the command.
     */
    long listedMillis() {
      var m = MERGE_SECONDS.matcher(run.stderr() + "\n" + run.stdout());
      if (!m.find()) return startMillis;
      long listed = startMillis + run.millis() - Math.round(Double.parseDouble(m.group(1)) * 1000);
      return Math.max(startMillis, listed);
    }
  }

  private Restored restore(ReplicaTarget t, String label, List<String> extra) throws IOException {
    Path file = restoresDir.resolve(String.format("%05d-%s-%s.db", ++restoreCount, t.name(), label));
    List<String> args = new ArrayList<>(List.of("restore", "-o", file.toString()));
    args.addAll(extra);
    args.add(t.restoreUrl());
    long start = System.currentTimeMillis();
    CommandRun run;
    if (opt.restoresInProcess()) {
      CliRunner.Result r = inProcess.run(args);
      String err = r.threw() == null ? r.stderr() : r.stderr() + "\n" + r.threw();
      run = new CommandRun(args, r.exit(), r.stdout(), err, System.currentTimeMillis() - start, false);
      Files.writeString(logs.resolve(String.format("restore-%05d.txt", restoreCount)), String.join(" ", args) + "\n"
          + "exit " + r.exit() + "\n" + r.stdout() + err);
    } else {
      run = CommandRun.run(strata.command(args), RESTORE_TIMEOUT,
          logs.resolve(String.format("restore-%05d", restoreCount)));
    }
    if (run.exit() != 0 || !Files.exists(file)) return new Restored(run, null, 0, start, file);
    return new Restored(run, script.digest(file, "quick"), DatabaseChecksum.of(file), start, file);
  }

  /** Checks what every restore must satisfy; returns the commit it holds, or null after recording a finding. */
  private Oracle.Commit judge(ReplicaTarget t, String what, Restored r) throws IOException {
    tally.restore(what);
    String where = what + " restore from " + t.name();
    if (r.run().exit() != 0 || r.digest() == null) {
      tally.find(Problem.RESTORE_ERROR, cycle, t.name(), where + " failed (exit " + r.run().exit() + "): "
          + r.run().lastLine());
      return null;
    }
    if (!r.digest().intact()) {
      tally.find(Problem.INTEGRITY, cycle, t.name(), where + ": " + r.digest().integrity() + " (" + r.file() + ")");
      return null;
    }
    Long seq = r.digest().seq();
    oracle.refresh();
    Oracle.Commit c = seq == null ? null : oracle.bySeq(seq);
    if (c == null) {
      tally.find(Problem.UNKNOWN_STATE, cycle, t.name(), where + " holds seq " + seq + ", which the writer never "
          + "committed (" + r.file() + ")");
      return null;
    }
    if (!c.digest().equals(r.digest().digest())) {
      tally.find(Problem.CONTENT, cycle, t.name(), where + " claims commit " + seq + " (" + c.kind()
          + ") but its digest " + r.digest().digest() + " is not the oracle's " + c.digest() + " (" + r.file() + ")");
      return null;
    }
    Files.deleteIfExists(r.file());
    return c;
  }

  /**
   * Restores latest while everything runs. Lag: restore start minus the commit time of the first commit the restore
   * lacks; budget: sync interval + twice {@code faultMillis} (the duration of the fault that just hit this replica;
   * twice for the retry backoff) + grace.
   */
  private void liveRestore(ReplicaTarget t, String after, long faultMillis) throws IOException {
    Restored r = restore(t, "live", List.of());
    Oracle.Commit c = judge(t, "live", r);
    if (c == null) return;
    if (r.txid() > 0) recordTxid(t, r.txid(), c.seq());
    Oracle.Commit missing = oracle.bySeq(c.seq() + 1);
    long listed = r.listedMillis();
    long lag = missing != null && missing.t1Millis() < listed ? listed - missing.t1Millis() : 0;
    // Twice the fault: a failing replica is retried with exponential backoff, so the first retry after the fault
    // ends may come up to as long again as the fault lasted. A fault of an earlier cycle on this replica still
    // counts with what is left of that allowance (a request stalled near its end is retried after it).
    long budget = opt.syncInterval().toMillis() + Math.max(2 * faultMillis, earlierFaultTail(t, listed))
        + opt.lagGrace().toMillis();
    String where = "cycle " + cycle + ", " + t.name() + ", " + after;
    tally.lag(lag, budget, where);
    if (lag > budget) {
      tally.find(Problem.LAG, cycle, t.name(), "live restore (" + after + ") lags " + lag + " ms (budget " + budget
          + " ms: sync " + opt.syncInterval().toMillis() + " + fault allowance " + (budget
          - opt.syncInterval().toMillis() - opt.lagGrace().toMillis()) + " + grace "
          + opt.lagGrace().toMillis() + "); restored commit " + c.seq() + ", first missing " + missing.seq()
          + " committed at " + Timestamps.format(missing.t1Millis()));
    }
  }

  /**
   * What is left, at {@code atMillis}, of the allowance (twice its length after it ended) of the last fault that hit
   * {@code t}; 0 when none did or it has run out.
   */
  private long earlierFaultTail(ReplicaTarget t, long atMillis) {
    FaultEvent f = lastFaults.get(t.name());
    if (f == null) return 0;
    return Math.max(0, f.endMillis() + 2 * f.durationMillis() - atMillis);
  }

  /** Stops the agent (SIGTERM) with the writer paused, checks every replica, then restarts both if asked. */
  private void verifyStopped(boolean thorough, boolean restart) throws Exception {
    pump.pause();
    stopAgent();
    oracle.refresh();
    Oracle.Commit last = oracle.last();
    Map<ReplicaTarget, ChainCheck.Report> chains = new LinkedHashMap<>();
    for (ReplicaTarget t : targets) {
      ChainCheck.Report chain = ChainCheck.check(t.client());
      chains.put(t, chain);
      tally.chainChecks++;
      tally.filesVerified += chain.files().size();
      tally.overlapJoins += chain.overlapJoins();
      tally.superseded += chain.superseded();
      if (!chain.broken().isEmpty()) saveListing(t, chain);
      Map<Long, ChainCheck.RestorePoint> seen = seenPoints.computeIfAbsent(t.name(), k -> new HashMap<>());
      // The agent runs with the default levels (DESIGN.md "Levels").
      for (String p : ChainCheck.lostInsideRetention(seen, chain, LevelConfig.defaults(), System.currentTimeMillis())) {
        tally.find(Problem.CHAIN, cycle, t.name(), p);
      }
      ChainCheck.remember(seen, chain);
      for (String p : chain.problems()) {
        // A break means the restore point at the end of the stranded file cannot be reached: ask strata.
        String confirm = "";
        for (ChainCheck.FileView f : chain.broken()) {
          if (p.startsWith("chain break: " + f.name())) {
            Restored r = restore(t, "broken-" + Txid.format(f.max()), List.of("-txid", Txid.format(f.max())));
            confirm = "; strata restore -txid " + Txid.format(f.max()) + ": " + (r.run().exit() == 0
                ? "succeeded (commit " + (r.digest() == null ? "?" : r.digest().seq()) + ")"
                : "exit " + r.run().exit() + ": " + r.run().lastLine());
          }
        }
        tally.find(Problem.CHAIN, cycle, t.name(), p + confirm);
      }

      Restored r = restore(t, "latest", List.of());
      Oracle.Commit c = judge(t, "latest after stop", r);
      if (c == null) continue;
      if (c.seq() != last.seq() && leftBehindAtStop.contains(t.name())) {
        // Not silent: the agent said it gave up on this replica at the stop and keeps the files locally.
        tally.find(Problem.AGENT, cycle, t.name(), "the final sync gave up on " + t.name() + " (shutdown timeout; "
            + "the agent kept the files locally and said so): latest restore holds commit " + c.seq() + " of "
            + last.seq());
      } else if (c.seq() != last.seq()) {
        tally.find(Problem.LOST_COMMITS, cycle, t.name(), "latest restore after SIGTERM holds commit " + c.seq()
            + " but the writer's last is " + last.seq() + " (" + (last.seq() - c.seq()) + " commits missing; "
            + "replica's max TXID " + Txid.format(chain.maxTxid()) + ")");
      }
      if (!chain.restorePoints().isEmpty()) {
        var top = chain.restorePoints().lastEntry().getValue();
        checkChecksum(t, "latest", r, top.postApplyChecksum());
        recordTxid(t, top.txid(), c.seq());
      }
    }
    ReplicaTarget t = targets.get(choiceRng.nextInt(targets.size()));
    compareRestorePoints(t, chains.get(t));
    List<ChainCheck.RestorePoint> points = new ArrayList<>(chains.get(t).restorePoints().values());
    if (!points.isEmpty()) points.removeLast();
    Collections.shuffle(points, choiceRng);
    int n = thorough ? Math.min(points.size(), 12) : Math.min(points.size(), opt.restoresPerCycle());
    for (ChainCheck.RestorePoint p : points.subList(0, n)) restoreAtTxid(t, p);
    if (!chains.get(t).restorePoints().isEmpty()) restoreAtTimestamp(t, chains.get(t));

    if (restart) {
      startAgent();
      pump.resume();
    }
    log("cycle %d %s: %s; restores %d; problems %d", cycle, thorough ? "final check" : "stopped and checked",
        describeChains(chains), tally.restoresChecked(), tally.findings.size());
  }

  /**
   * {@code strata restore-points} must list only positions the chain reaches, with the same checksums. A listed
   * point the chain cannot reach is restored to see what a user would get.
   */
  private void compareRestorePoints(ReplicaTarget t, ChainCheck.Report chain) throws IOException {
    List<String> args = List.of("restore-points", "-json", t.restoreUrl());
    CommandRun run;
    if (opt.restoresInProcess()) {
      CliRunner.Result r = inProcess.run(args);
      run = new CommandRun(args, r.exit(), r.stdout(), r.stderr(), 0, false);
    } else {
      run = CommandRun.run(strata.command(args), RESTORE_TIMEOUT, logs.resolve("restore-points-" + cycle));
    }
    if (run.exit() != 0) {
      tally.find(Problem.RESTORE_ERROR, cycle, t.name(), "strata restore-points failed (exit " + run.exit() + "): "
          + run.lastLine());
      return;
    }
    Set<Long> listed = new java.util.HashSet<>();
    for (JsonNode n : new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.stdout())) {
      long txid = Txid.parse(n.path("txid").asText());
      listed.add(txid);
      String sum = n.path("checksum").asText("");
      long checksum = sum.isEmpty() ? 0 : Checksum.parse(sum); // absent when the listing does not carry it
      ChainCheck.RestorePoint mine = chain.restorePoints().get(txid);
      if (mine == null) {
        Restored r = restore(t, "listed-" + Txid.format(txid), List.of("-txid", Txid.format(txid)));
        tally.find(Problem.CHAIN, cycle, t.name(), "strata restore-points lists TXID " + Txid.format(txid)
            + ", which no chain from a snapshot reaches; restore -txid: " + (r.run().exit() == 0 ? "succeeded"
            : "exit " + r.run().exit() + ": " + r.run().lastLine()));
      } else if (checksum != 0 && mine.postApplyChecksum() != checksum) {
        tally.find(Problem.CHECKSUM, cycle, t.name(), "strata restore-points says TXID " + Txid.format(txid)
            + " has checksum " + Checksum.format(checksum) + ", the files say " + Checksum.format(mine.postApplyChecksum()));
      }
    }
    long unlisted = chain.restorePoints().keySet().stream().filter(x -> !listed.contains(x)).count();
    if (unlisted > 0) tally.notes.merge("restore-points", "cycle " + cycle + " " + t.name() + ": " + unlisted
        + " reachable TXIDs not listed", (a, b) -> a.length() > 300 ? a : a + "; " + b);
  }

  /** For a post-mortem of a chain break: every file with its header fields, and the agent's log so far. */
  private void saveListing(ReplicaTarget t, ChainCheck.Report chain) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (ChainCheck.FileView f : chain.files()) {
      var h = f.info().header();
      sb.append(String.format("%s pre=%s post=%s ts=%s size=%d%n", f.name(), Checksum.format(h.preApplyChecksum()),
          Checksum.format(f.info().trailer().postApplyChecksum()), Timestamps.format(h.timestamp()), f.size()));
    }
    Path file = logs.resolve("chain-" + cycle + "-" + t.name() + ".txt");
    Files.writeString(file, sb.toString());
    log("chain break on %s: listing saved in %s", t.name(), file);
  }

  private static String describeChains(Map<ReplicaTarget, ChainCheck.Report> chains) {
    List<String> parts = new ArrayList<>();
    chains.forEach((t, c) -> parts.add(t.name() + " " + c.levelCounts() + " max " + Txid.format(c.maxTxid())));
    return String.join(", ", parts);
  }

  private void restoreAtTxid(ReplicaTarget t, ChainCheck.RestorePoint p) throws IOException {
    Restored r = restore(t, "txid-" + Txid.format(p.txid()), List.of("-txid", Txid.format(p.txid())));
    Oracle.Commit c = judge(t, "at TXID", r);
    if (c == null) return;
    if (r.txid() >= 0 && r.txid() != p.txid()) {
      tally.find(Problem.POINT_CHANGED, cycle, t.name(), "restore -txid " + Txid.format(p.txid())
          + " says it restored TXID " + Txid.format(r.txid()));
    }
    checkChecksum(t, "TXID " + Txid.format(p.txid()), r, p.postApplyChecksum());
    if (c.t0Millis() > p.timestamp()) {
      tally.find(Problem.FROM_THE_FUTURE, cycle, t.name(), "restore at TXID " + Txid.format(p.txid())
          + " (header timestamp " + Timestamps.format(p.timestamp()) + ") holds commit " + c.seq()
          + ", which began committing at " + Timestamps.format(c.t0Millis()));
    }
    recordTxid(t, p.txid(), c.seq());
  }

  private void restoreAtTimestamp(ReplicaTarget t, ChainCheck.Report chain) throws IOException {
    List<ChainCheck.RestorePoint> points = new ArrayList<>(chain.restorePoints().values());
    ChainCheck.RestorePoint p = points.get(choiceRng.nextInt(points.size()));
    long next = points.stream().mapToLong(ChainCheck.RestorePoint::timestamp).filter(ts -> ts > p.timestamp()).min()
        .orElse(p.timestamp() + 1000);
    long at = p.timestamp() + choiceRng.nextLong(Math.max(1, next - p.timestamp()));
    Restored r = restore(t, "ts", List.of("-timestamp", Timestamps.format(at)));
    Oracle.Commit c = judge(t, "at timestamp", r);
    if (c == null) return;
    if (r.txid() > 0) recordTxid(t, r.txid(), c.seq());
    if (c.t0Millis() > at) {
      tally.find(Problem.FROM_THE_FUTURE, cycle, t.name(), "restore at " + Timestamps.format(at) + " holds commit "
          + c.seq() + ", which began committing at " + Timestamps.format(c.t0Millis()));
    }
    Long floor = null;
    for (ChainCheck.RestorePoint q : points) {
      Long s = seqByTxid.get(t.name()).get(q.txid());
      if (q.timestamp() <= at && s != null && (floor == null || s > floor)) floor = s;
    }
    if (floor != null && c.seq() < floor) {
      tally.find(Problem.POINT_CHANGED, cycle, t.name(), "restore at " + Timestamps.format(at) + " holds commit "
          + c.seq() + ", older than commit " + floor + " of a restore point at or before that time");
    }
  }

  private void checkChecksum(ReplicaTarget t, String what, Restored r, long expected) {
    if (r.checksum() != expected) {
      tally.find(Problem.CHECKSUM, cycle, t.name(), what + ": restored file's database checksum "
          + Checksum.format(r.checksum()) + " is not the replica's post-apply checksum " + Checksum.format(expected));
    }
  }

  /** The TXID→commit mapping must be a function and monotonic (see the class comment). */
  private void recordTxid(ReplicaTarget t, long txid, long seq) {
    TreeMap<Long, Long> m = seqByTxid.get(t.name());
    Long before = m.get(txid);
    if (before != null && before != seq) {
      tally.find(Problem.POINT_CHANGED, cycle, t.name(), "TXID " + Txid.format(txid) + " restored to commit " + before
          + " before, now to commit " + seq);
      return;
    }
    var lower = m.lowerEntry(txid);
    var higher = m.higherEntry(txid);
    if (lower != null && lower.getValue() > seq || higher != null && higher.getValue() < seq) {
      tally.find(Problem.POINT_CHANGED, cycle, t.name(), "TXID " + Txid.format(txid) + " restores to commit " + seq
          + " but " + (lower != null && lower.getValue() > seq
              ? "lower TXID " + Txid.format(lower.getKey()) + " restored to later commit " + lower.getValue()
              : "higher TXID " + Txid.format(higher.getKey()) + " restored to earlier commit " + higher.getValue()));
    }
    m.put(txid, seq);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private static void sleep(long millis) throws InterruptedException {
    if (millis > 0) Thread.sleep(millis);
  }

  void log(String format, Object... args) {
    String line = String.format("[%7.1fs] ", (System.currentTimeMillis() - startMillis) / 1000.0)
        + String.format(format, args);
    synchronized (out) {
      out.println(line);
      out.flush();
    }
    if (logs != null) {
      try {
        Files.writeString(logs.resolve("torture.log"), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        // the console has it
      }
    }
  }

  /** Wall-clock milliseconds since the run started. */
  long elapsedMillis() {
    return System.currentTimeMillis() - startMillis;
  }
}
