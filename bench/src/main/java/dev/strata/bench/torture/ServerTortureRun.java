package dev.strata.bench.torture;

import dev.strata.bench.torture.BackupApi.Listed;
import dev.strata.bench.torture.ServerTally.Problem;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.testing.LocalPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;

/**
 * One server run ({@code bin/torture --server}): LiteFS-like nodes push several databases to a {@code strata serve}
 * process backed by S3 (S3Proxy behind the fault proxy), while each cycle injects one fault drawn from the seed: kill
 * -9 mid-upload or mid-compaction, SIGTERM, storage 5xx, resets or stalls, a stale upload, a restore on the server
 * while the node writes. After each fault, with every node paused in sync, the checks of {@link ServerChecks} run:
 * positions, exports of the latest state, restore points by TXID and time, and an earlier point restored and
 * exported. Then the in-process retention phase ({@link RetentionWeeks}) runs over simulated weeks.
 */
final class ServerTortureRun {
  static final String CLUSTER = "torture";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration PAUSE_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  /** The harness's requests are small (databases of a few MB): slower than this, with no fault running, is a finding. */
  private static final Duration ANSWER_BUDGET = Duration.ofSeconds(30);
  private static final int[] PAGE_SIZES = {4096, 1024, 8192, 2048, 4096, 512};

  private final ServerTortureOptions opt;
  private final PrintStream out;
  private final ServerTally tally = new ServerTally();
  private final Random faultRng;
  private final Random choiceRng;
  private final long nodeSeed;
  private final long weeksSeed;
  private final long startMillis = System.currentTimeMillis();

  private Path work;
  private Path logs;
  private StrataLauncher strata;
  private S3Target s3;
  /** Each instance's loopback port, kept across its restarts. */
  private final List<Integer> ports = new ArrayList<>();
  /**
   * The harness's client; the nodes have their own, with LiteFS-like patience. With several instances each request
   * of either goes to one of them at random.
   */
  private BackupApi api;
  private BackupApi nodeApi;
  /** One client per instance (with one instance, {@link #api} itself). */
  private final List<BackupApi> instanceApis = new ArrayList<>();
  /** The {@code strata serve} processes, by instance. */
  private final List<ServerProcess> servers = new ArrayList<>();
  /** The shared metadata store with --metadata postgres, and its URL (null: each instance's embedded SQLite). */
  private LocalPostgres pg;
  private String metadataUrl;
  private int pgKills;
  private ServerChecks checks;
  private final List<PrimaryNode> nodes = new ArrayList<>();
  private int cycle;
  /** Databases whose restore points were reported as not keeping up. */
  private final Set<String> stalled = new HashSet<>();
  private int serverStarts;
  private long slowestStartMillis;

  ServerTortureRun(ServerTortureOptions opt, PrintStream out) {
    this.opt = opt;
    this.out = out;
    Random master = new Random(opt.seed());
    this.faultRng = new Random(master.nextLong());
    this.choiceRng = new Random(master.nextLong());
    this.nodeSeed = master.nextLong();
    this.weeksSeed = master.nextLong();
  }

  /** Runs the cycles and the retention phase as the options say; returns what was found. */
  ServerTally run() throws Exception {
    work = opt.workDir().toAbsolutePath();
    if (Files.exists(work)) DirectoryTree.delete(work);
    logs = Files.createDirectories(work.resolve("logs"));
    strata = opt.strataScript() != null ? StrataLauncher.script(opt.strataScript()) : StrataLauncher.sameClasspath();
    strata.directory(work);
    log("seed %d — reproduce with: %s", opt.seed(), opt.reproduce());
    log("work directory %s", work);
    tally.onFinding(f -> log("! %s (db %s, %s): %s", f.problem(), f.db(), f.when(), f.detail()));
    Thread cleanup = new Thread(this::tearDown, "torture-server-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      if (opt.cycles()) runCycles();
      tearDown();
      if (opt.weeks() > 0) runWeeks();
    } catch (Exception e) {
      tally.find(Problem.HARNESS, "-", "harness stopped: " + e);
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      Files.writeString(logs.resolve("harness-error.txt"), trace.toString());
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
  // The cycles, then the weeks

  /** Starts S3, the server and the nodes, then runs cycles until the duration or the cycle count is reached. */
  private void runCycles() throws Exception {
    s3 = new S3Target(work.resolve("s3"));
    if (opt.postgres()) {
      pg = LocalPostgres.start();
      metadataUrl = pg.createDatabase("torture");
      log("PostgreSQL %s for the metadata of %d instance%s (log kept as logs/postgres.log)", metadataUrl,
          opt.instances(), opt.instances() == 1 ? "" : "s");
    }
    List<String> bases = new ArrayList<>();
    for (int i = 0; i < opt.instances(); i++) {
      ports.add(ServerProcess.freePort());
      bases.add("http://127.0.0.1:" + ports.get(i));
      servers.add(null);
    }
    api = new BackupApi(bases, CLUSTER, Duration.ofSeconds(60));
    api.budget(ANSWER_BUDGET);
    nodeApi = new BackupApi(bases, CLUSTER, Duration.ofSeconds(30));
    for (int i = 0; i < opt.instances(); i++) {
      BackupApi one = opt.instances() == 1 ? api : new BackupApi(bases.get(i), CLUSTER, Duration.ofSeconds(60));
      one.budget(ANSWER_BUDGET);
      instanceApis.add(one);
    }
    for (int i = 0; i < opt.instances(); i++) startServer(i);
    Path scratch = Files.createDirectories(work.resolve("scratch"));
    checks = new ServerChecks(api, tally, InstantSource.system(), Duration.ofDays(30), strata, scratch);
    Path nodeDir = Files.createDirectories(work.resolve("nodes"));
    Random seeds = new Random(nodeSeed);
    for (int i = 0; i < opt.databases(); i++) {
      String name = "db" + i;
      int pageSize = PAGE_SIZES[i % PAGE_SIZES.length];
      NodeDatabase db = NodeDatabase.create(nodeDir.resolve(name + ".db"), pageSize);
      PrimaryNode n = new PrimaryNode(name, db, new Workload(seeds.nextLong(), 1_200_000 / pageSize), nodeApi,
          new Lineage(name, tally, InstantSource.system()), tally, InstantSource.system(), seeds.nextLong());
      n.commit();
      nodes.add(n);
    }
    for (PrimaryNode n : nodes) n.start(opt.gapMillis());
    awaitFirstUploads();

    List<ServerFault> firstPass = new ArrayList<>(opt.faults());
    Collections.shuffle(firstPass, faultRng);
    long deadline = startMillis + opt.duration().toMillis();
    while (true) {
      cycle++;
      tally.cycles = cycle;
      tally.at("cycle " + cycle + ", steady state");
      ServerFault kind = !firstPass.isEmpty() ? firstPass.removeFirst() : draw();
      sleep(1000 + faultRng.nextLong(3000));
      checkServerAlive("before " + kind.label());
      tally.at("cycle " + cycle + ", during " + kind.label());
      String detail;
      try {
        detail = inject(kind);
      } catch (IOException e) {
        detail = "no answer: " + e.getMessage();
        noAnswer(kind.label(), e);
      }
      tally.fault(kind);
      tally.at("cycle " + cycle + ", after " + kind.label() + " (" + detail + ")");
      log("cycle %d: %s — %s", cycle, kind.label(), detail);
      sleep(500 + faultRng.nextLong(1500));
      boolean last = opt.maxCycles() > 0 ? cycle >= opt.maxCycles() : System.currentTimeMillis() >= deadline;
      verify(last);
      if (last) break;
    }
    for (PrimaryNode n : nodes) n.close();
    for (int i = 0; i < servers.size(); i++) {
      OptionalInt exit = servers.get(i).terminate(STOP_TIMEOUT);
      if (exit.isEmpty()) {
        tally.find(Problem.SERVER, "-", "strata serve" + instance(i) + " did not exit within "
            + STOP_TIMEOUT.toSeconds() + " s of SIGTERM (killed)");
      }
    }
    tally.notes.put("server", serverStarts + " starts, slowest to answer GET /pos " + slowestStartMillis + " ms");
    if (pg != null) tally.notes.put("postgres", pgKills + " kill -9 and restart" + (pgKills == 1 ? "" : "s"));
    tally.notes.put("slowest answer", "to the harness " + api.slowest() + "; to a node " + nodeApi.slowest());
    tally.notes.put("storage", describeStorage());
  }

  private void awaitFirstUploads() throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    for (PrimaryNode n : nodes) {
      while (n.lineage().highestAcked() == 0) {
        if (System.currentTimeMillis() > deadline) {
          throw new IOException(n.name() + ": no upload acknowledged within 60 s (last error: " + n.lastError() + ")");
        }
        sleep(50);
      }
    }
    log("every node's first upload acknowledged after %d ms", System.currentTimeMillis() - startMillis);
  }

  private static final Map<ServerFault, Integer> WEIGHTS = Map.of(ServerFault.KILL9_UPLOAD, 5,
      ServerFault.KILL9_COMPACTION, 5, ServerFault.SIGTERM, 2, ServerFault.STORAGE_ERRORS, 3,
      ServerFault.STORAGE_RESETS, 3, ServerFault.STORAGE_STALL, 3, ServerFault.STALE_POSITION, 3,
      ServerFault.RESTORE_LIVE, 5, ServerFault.KILL9_POSTGRES, 4);

  private ServerFault draw() {
    List<ServerFault> kinds = new ArrayList<>(opt.faults());
    int r = faultRng.nextInt(kinds.stream().mapToInt(WEIGHTS::get).sum());
    for (ServerFault k : kinds) {
      r -= WEIGHTS.get(k);
      if (r < 0) return k;
    }
    return kinds.getLast();
  }

  /**
   * The retention phase, in memory when /dev/shm is there: its thousands of storage writes each fsync, which on
   * tmpfs costs nothing, and the phase proves retention, not durability. Deleted afterwards unless --keep (the
   * phase is deterministic: the same seed with --keep rebuilds it).
   */
  private void runWeeks() throws Exception {
    Path shm = Path.of("/dev/shm");
    boolean inMemory = Files.isDirectory(shm) && Files.isWritable(shm);
    Path dir = inMemory ? shm.resolve("strata-torture-weeks-" + opt.seed() + "-" + ProcessHandle.current().pid())
        : work.resolve("weeks");
    try {
      new RetentionWeeks(opt, tally, Files.createDirectories(dir), s -> log("%s", s), weeksSeed).run();
    } finally {
      if (inMemory && !opt.keep()) DirectoryTree.delete(dir);
      else if (inMemory) log("retention phase kept in %s", dir);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tear-down

  /** Stops everything this run started; safe to call twice (the shutdown hook and the normal end). */
  private synchronized void tearDown() {
    for (PrimaryNode n : nodes) n.close();
    nodes.clear();
    try {
      for (ServerProcess server : servers) if (server != null && server.alive()) server.kill9();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    servers.replaceAll(x -> null);
    if (pg != null) {
      try {
        if (logs != null) Files.copy(pg.logFile(), logs.resolve("postgres.log"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        log("cleanup: postgres log: %s", e.getMessage());
      }
      try {
        pg.close();
      } catch (IOException | RuntimeException e) {
        log("cleanup: postgres: %s", e.getMessage());
      }
      pg = null;
    }
    try {
      if (s3 != null) s3.close();
    } catch (IOException e) {
      log("cleanup: %s", e.getMessage());
    }
    s3 = null;
  }

  void deleteWorkDir() throws IOException {
    if (work != null && Files.exists(work)) DirectoryTree.delete(work);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The server

  /** " (instance 1)" with several instances, else nothing: for messages. */
  private String instance(int i) {
    return opt.instances() == 1 ? "" : " (instance " + i + ")";
  }

  /** Instance i's log: logs/server.log for the first, logs/server-i.log for the others. */
  private String logName(int i) {
    return i == 0 ? "server.log" : "server-" + i + ".log";
  }

  private ServerProcess launch(int i) throws IOException {
    ServerProcess p = ServerProcess.start(strata, work.resolve(i == 0 ? "server" : "server-" + i), ports.get(i),
        s3.agentUrl(), metadataUrl, logs.resolve(logName(i)));
    servers.set(i, p);
    serverStarts++;
    return p;
  }

  private void startServer(int i) throws IOException, InterruptedException {
    ServerProcess server = launch(i);
    if (!server.awaitReady(instanceApis.get(i), READY_TIMEOUT)) {
      String why = server.alive() ? "no answer to GET /pos within " + READY_TIMEOUT.toSeconds() + " s"
          : "it exited " + server.exitCode();
      tally.find(Problem.SERVER, "-", "strata serve" + instance(i) + " did not start: " + why + "; see logs/"
          + logName(i));
      throw new IOException("strata serve" + instance(i) + " did not start: " + why);
    }
    slowestStartMillis = Math.max(slowestStartMillis, System.currentTimeMillis() - server.startedAt());
  }

  private void checkServerAlive(String when) throws IOException, InterruptedException {
    for (int i = 0; i < servers.size(); i++) {
      ServerProcess server = servers.get(i);
      if (server.alive()) continue;
      tally.find(Problem.SERVER, "-", "strata serve" + instance(i) + " exited on its own (exit " + server.exitCode()
          + ") " + when + "; see logs/" + logName(i));
      startServer(i);
    }
  }

  /** Down for a random pause, sometimes killed again early in its start-up, then started. */
  private String restartAfterKill(int i) throws IOException, InterruptedException {
    long down = faultRng.nextLong(2000);
    sleep(down);
    String detail = "down " + down + " ms";
    if (faultRng.nextInt(3) == 0) { // and once more while it opens its store and storage
      ServerProcess server = launch(i);
      long upFor = 300 + faultRng.nextLong(2500);
      sleep(upFor);
      server.kill9();
      detail += ", killed again " + upFor + " ms into its start-up";
    }
    startServer(i);
    return detail + ", restarted";
  }

  /**
   * The instance whose process holds the most live job leases (the one flushing or compacting now), or -1 when
   * none does or the leases cannot be read. The leases table names its owner "host/pid/random".
   */
  private int leaseHolder() {
    try {
      String rows = pg.psql("torture", "SELECT owner FROM leases WHERE expires_at > "
          + System.currentTimeMillis());
      Map<Long, Integer> byPid = new HashMap<>();
      for (String line : rows.split("\n")) {
        String[] parts = line.strip().split("/");
        if (parts.length >= 2 && parts[1].matches("\\d+")) byPid.merge(Long.parseLong(parts[1]), 1, Integer::sum);
      }
      int best = -1, most = 0;
      for (int i = 0; i < servers.size(); i++) {
        int held = byPid.getOrDefault(servers.get(i).pid(), 0);
        if (held > most) {
          most = held;
          best = i;
        }
      }
      return best;
    } catch (IOException | RuntimeException e) {
      log("leases not read: %s", e.getMessage());
      return -1;
    }
  }

  /** A victim for a fault: the only instance, or {@code preferred} when known, else one drawn from the seed. */
  private int victim(int preferred) {
    if (servers.size() == 1) return 0;
    int drawn = faultRng.nextInt(servers.size());
    return preferred >= 0 ? preferred : drawn;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Faults

  private String inject(ServerFault kind) throws Exception {
    return switch (kind) {
      case KILL9_UPLOAD -> {
        if (servers.size() > 1) yield killMidUpload();
        PrimaryNode busy = null;
        long deadline = System.currentTimeMillis() + 3000;
        while (busy == null && System.currentTimeMillis() < deadline) {
          for (PrimaryNode n : nodes) if (n.uploading()) busy = n;
          if (busy == null) Thread.sleep(0, 200_000);
        }
        servers.getFirst().kill9();
        yield (busy != null ? "killed with an upload from " + busy.name() + " in flight"
            : "killed (no upload seen in flight within 3 s)") + ", " + restartAfterKill(0);
      }
      case KILL9_COMPACTION -> {
        String how;
        if (faultRng.nextBoolean()) {
          // Level 2 when its 5-minute boundary is near (its compaction reads many files), else level 1.
          long toFive = 300_000 - System.currentTimeMillis() % 300_000;
          int level = toFive < 20_000 ? 2 : 1;
          String marker = s3.holdUploads(level);
          int seen = s3.requestLog().size();
          long start = System.currentTimeMillis(), deadline = start + (level == 2 ? toFive : 0) + 12_000;
          boolean held = false;
          while (!held && System.currentTimeMillis() < deadline) {
            List<String> log = s3.requestLog();
            for (String line : log.subList(Math.min(seen, log.size()), log.size())) {
              if (line.startsWith("PUT ") && line.contains(marker) && line.endsWith("STALL")) held = true;
            }
            if (!held) sleep(20);
          }
          int v = victim(servers.size() > 1 ? leaseHolder() : -1);
          servers.get(v).kill9();
          s3.endFault();
          how = (servers.size() > 1 ? "instance " + v + " " : "") + (held ? "killed while the storage held a level-" + level + " upload (" + (System.currentTimeMillis()
              - start) + " ms after holding began)" : "no level-" + level + " upload within "
              + (deadline - start) / 1000 + " s; killed anyway");
          how += ", " + restartAfterKill(v);
        } else {
          long boundary = (System.currentTimeMillis() / 10_000 + 1) * 10_000;
          long offset = faultRng.nextLong(1500);
          sleep(boundary - System.currentTimeMillis());
          int seen = s3.requestLog().size();
          sleep(boundary + offset - System.currentTimeMillis());
          int v = victim(servers.size() > 1 ? leaseHolder() : -1);
          servers.get(v).kill9();
          List<String> log = s3.requestLog();
          long puts = log.subList(Math.min(seen, log.size()), log.size()).stream()
              .filter(l -> l.startsWith("PUT ") || l.startsWith("DELETE ") || l.startsWith("POST ")).count();
          how = (servers.size() > 1 ? "instance " + v + " " : "") + "killed " + offset
              + " ms after a 10-s boundary (" + puts + " storage writes since the boundary)";
          how += ", " + restartAfterKill(v);
        }
        yield how;
      }
      case SIGTERM -> {
        int v = victim(-1);
        long start = System.currentTimeMillis();
        OptionalInt exit = servers.get(v).terminate(STOP_TIMEOUT);
        if (exit.isEmpty()) {
          tally.find(Problem.SERVER, "-", "strata serve" + instance(v) + " did not exit within "
              + STOP_TIMEOUT.toSeconds() + " s of SIGTERM (killed)");
        }
        String d = (servers.size() > 1 ? "instance " + v + " " : "") + "stopped in "
            + (System.currentTimeMillis() - start) + " ms (exit " + (exit.isEmpty() ? "none" : exit.getAsInt()) + ")";
        startServer(v);
        yield d + ", restarted";
      }
      case STORAGE_ERRORS, STORAGE_RESETS, STORAGE_STALL -> {
        String d = s3.startFault(kind.storageFault(), faultRng);
        long hold = 2000 + faultRng.nextLong(10_000);
        if (faultRng.nextInt(8) == 0) hold *= 3; // now and then across several flushes and a 5-min boundary
        try {
          sleep(hold);
        } finally {
          s3.endFault();
        }
        yield d + " for " + hold + " ms";
      }
      case STALE_POSITION -> stalePosition(nodes.get(faultRng.nextInt(nodes.size())));
      case RESTORE_LIVE -> restoreLive(nodes.get(faultRng.nextInt(nodes.size())));
      case KILL9_POSTGRES -> killPostgres();
    };
  }

  /**
   * With several instances: waits up to 3 s for an instance with a node's upload on the wire, kills it, and
   * restarts it after a pause; the nodes meanwhile retry on the other instances.
   */
  private String killMidUpload() throws IOException, InterruptedException {
    int busy = -1;
    long deadline = System.currentTimeMillis() + 3000;
    while (busy < 0 && System.currentTimeMillis() < deadline) {
      for (int i = 0; i < servers.size() && busy < 0; i++) {
        if (nodeApi.uploadsInFlight("http://127.0.0.1:" + ports.get(i)) > 0) busy = i;
      }
      if (busy < 0) Thread.sleep(0, 200_000);
    }
    int v = victim(busy);
    servers.get(v).kill9();
    return "instance " + v + (busy >= 0 ? " killed with an upload in flight to it"
        : " killed (no upload seen in flight within 3 s)") + ", " + restartAfterKill(v);
  }

  /**
   * kill -9 of PostgreSQL under load, down for a pause, then restarted (crash recovery on the same port and data).
   * Meanwhile every live instance is asked {@code POST /db/tx} (a probe database the nodes never use) and
   * {@code GET /pos}: uploads must be answered 503 (LiteFS retries), never acknowledged, never 500; the nodes retry
   * theirs, and the checks after the cycle show that nothing acknowledged was lost.
   */
  private String killPostgres() throws IOException, InterruptedException {
    long down = 1000 + faultRng.nextLong(6000);
    long start = System.currentTimeMillis();
    pg.kill9();
    pgKills++;
    sleep(200 + faultRng.nextLong(300)); // in-flight statements fail first
    // Every instance probed at once: an answer may take the pool's connection timeout (5 s).
    List<String> answers = Collections.synchronizedList(new ArrayList<>());
    List<Thread> probes = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      int at = i;
      probes.add(Thread.ofVirtual().start(() -> probeUpload(at, answers)));
      probes.add(Thread.ofVirtual().start(() -> probePositions(at, answers)));
    }
    for (Thread t : probes) t.join();
    Collections.sort(answers);
    sleep(start + down - System.currentTimeMillis());
    long restart = System.currentTimeMillis();
    pg.restart();
    return "PostgreSQL killed, down " + (restart - start) + " ms (" + String.join(", ", answers)
        + "), restarted in " + (System.currentTimeMillis() - restart) + " ms";
  }

  private void probeUpload(int i, List<String> answers) {
    BackupApi one = instanceApis.get(i);
    String probe = "outage-probe";
    try {
      BackupApi.Reply r = one.writeTx(probe, probeSnapshot());
      answers.add("POST /db/tx" + instance(i) + " " + r.status());
      if (r.status() != 503) {
        tally.find(r.ok() ? Problem.CONTENT : Problem.PROTOCOL, probe, "POST /db/tx" + instance(i)
            + " while PostgreSQL was down answered " + r.describe() + " (want 503: LiteFS retries)");
      }
    } catch (IOException e) {
      answers.add("POST /db/tx" + instance(i) + " no answer");
      tally.find(Problem.SERVER, probe, "POST /db/tx" + instance(i) + " while PostgreSQL was down got no answer: "
          + e.getMessage() + " (want 503)");
    }
  }

  private void probePositions(int i, List<String> answers) {
    try {
      instanceApis.get(i).positions();
      answers.add("GET /pos" + instance(i) + " 200");
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      answers.add("GET /pos" + instance(i) + (m.contains(": 503") ? " 503" : " failed"));
      if (!m.contains(": 503")) {
        tally.find(Problem.PROTOCOL, "-", "GET /pos" + instance(i) + " while PostgreSQL was down: " + m
            + " (want 503, or 200 from what it knows)");
      }
    }
  }

  /** A one-page LTX snapshot for the outage probe (never acknowledged: PostgreSQL is down when it is sent). */
  private static byte[] probeSnapshot() throws IOException {
    byte[] page = new byte[4096];
    new Random(1).nextBytes(page);
    long post = dev.strata.ltx.Checksum.roll(dev.strata.ltx.Checksum.EMPTY_DATABASE, 0,
        dev.strata.ltx.Checksum.ofPage(1, page));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    dev.strata.ltx.LtxEncoder enc = new dev.strata.ltx.LtxEncoder(out, dev.strata.ltx.LtxHeader.of(
        dev.strata.ltx.LtxHeader.FLAG_COMPRESS_LZ4, 4096, 1, 1, 1, System.currentTimeMillis(), 0));
    enc.encodePage(1, page);
    enc.finish(post);
    return out.toByteArray();
  }

  /** With the node paused in sync: stale uploads must get 409 EPOSMISMATCH naming the position, and change nothing. */
  private String stalePosition(PrimaryNode n) throws Exception {
    if (!pause(List.of(n))) return n.name() + " could not be paused in sync";
    try {
      Pos before = api.positions().getOrDefault(n.name(), Pos.ZERO);
      checks.exportLatest(n, "http", false);
      List<String> kinds = new ArrayList<>(PrimaryNode.STALE_KINDS);
      Collections.shuffle(kinds, faultRng);
      kinds = kinds.subList(0, 2 + faultRng.nextInt(kinds.size() - 1));
      for (String kind : kinds) {
        BackupApi.Reply r = api.writeTx(n.name(), n.staleUpload(kind, before));
        Pos named = r.status() == 409 && r.code().equals("EPOSMISMATCH") ? r.pos() : null;
        if (named == null || !named.equals(before)) {
          tally.find(Problem.PROTOCOL, n.name(), "stale upload (" + kind + ") at position " + before + " answered "
              + r.describe() + "; want 409 EPOSMISMATCH naming " + before);
        }
        tally.point("stale uploads refused");
      }
      Pos after = api.positions().getOrDefault(n.name(), Pos.ZERO);
      if (!after.equals(before)) {
        tally.find(Problem.CONTENT, n.name(), "refused stale uploads " + kinds + " moved the position from " + before
            + " to " + after);
        n.lineage().observe(after, n.lineage().highestAcked(), "GET /pos after stale uploads");
      }
      checks.exportLatest(n, "http", false);
      return n.name() + " at " + before + ": " + String.join(", ", kinds);
    } finally {
      n.resume();
    }
  }

  /**
   * A restore on the server while the node writes: to a recent upload's TXID (HTTP or CLI), or to a time
   * {@code /db/info} lists. The node must converge (its next upload gets 409, or its /pos refresh sees the server
   * ahead; it fetches the snapshot, which the oracle checks).
   */
  private String restoreLive(PrimaryNode n) throws Exception {
    List<Listed> listing = api.restorePoints(n.name());
    long newTxid;
    String d;
    if (!listing.isEmpty() && faultRng.nextInt(10) < 3) {
      Listed l = listing.get(faultRng.nextInt(listing.size()));
      long at = l.timestamp() + faultRng.nextLong(60_000);
      String via = faultRng.nextInt(10) < 4 ? "cli" : "http";
      newTxid = checks.restoreAt(n, listing, at, via, "live, cycle " + cycle);
      d = n.name() + " restored to " + Timestamps.format(at) + " via " + via;
    } else {
      long target = recentPoint(n, true);
      if (target < 0) return n.name() + ": no earlier restore point yet";
      String via = faultRng.nextInt(10) < 4 ? "cli" : "http";
      newTxid = checks.restore(n, target, via, "live, cycle " + cycle);
      d = n.name() + " restored to " + Txid.format(target) + " via " + via;
    }
    if (newTxid < 0) return d + ": failed";
    long start = System.currentTimeMillis();
    boolean already = n.pos().txid() >= newTxid;
    while (n.pos().txid() < newTxid && System.currentTimeMillis() - start < 30_000) sleep(20);
    if (n.pos().txid() < newTxid) {
      tally.find(Problem.NODE, n.name(), "did not converge to restored TXID " + Txid.format(newTxid) + " within 30 s"
          + " (node at " + n.pos() + "; last error: " + n.lastError() + ")");
    }
    return d + " as TXID " + Txid.format(newTxid) + (already ? "; the node had converged before the answer came"
        : "; the node converged " + (System.currentTimeMillis() - start) + " ms after the answer");
  }

  /** A restore point acknowledged within the last minutes, not the newest; -1 when there is none. */
  private long recentPoint(PrimaryNode n, boolean fromFaults) {
    Random rng = fromFaults ? faultRng : choiceRng;
    NavigableMap<Long, Lineage.Entry> points = n.lineage().points();
    if (points.size() < 2) return -1;
    long now = System.currentTimeMillis();
    List<Long> recent = new ArrayList<>();
    for (var e : points.headMap(points.lastKey(), false).entrySet()) {
      if (now - e.getValue().ackMillis() < ServerChecks.MUST_KEEP.toMillis() - 30_000) recent.add(e.getKey());
    }
    return recent.isEmpty() ? -1 : recent.get(rng.nextInt(recent.size()));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The checks after each cycle

  /** Pauses every node in sync, runs the checks, resumes; on the last cycle also checks that level 1 caught up. */
  private void verify(boolean last) throws Exception {
    checkServerAlive(tally.when());
    if (!pause(nodes)) {
      for (PrimaryNode n : nodes) n.resume();
      return;
    }
    try {
      checkAll(last);
    } catch (IOException e) {
      noAnswer("a check", e);
    } finally {
      for (PrimaryNode n : nodes) n.resume();
    }
    for (String slow : api.drainOverBudget()) {
      tally.find(Problem.SERVER, "-", "a check was answered after " + slow + " (budget " + ANSWER_BUDGET.toSeconds()
          + " s, no fault running); see logs/server.log");
    }
    StringBuilder pos = new StringBuilder();
    for (PrimaryNode n : nodes) pos.append(' ').append(n.name()).append('@').append(Txid.format(n.pos().txid()));
    log("cycle %d checked:%s; exports %d, points %d, findings %d", cycle, pos, tally.exportsVerified(),
        tally.pointsChecked(), tally.findings.size());
  }

  /** Positions, latest exports (HTTP, LTX, CLI), restore points, and one earlier point restored and exported. */
  private void checkAll(boolean last) throws IOException, InterruptedException {
    checks.positions(nodes);
    PrimaryNode viaCli = pick(nodes), viaLtx = pick(nodes), quick = pick(nodes);
    for (PrimaryNode n : nodes) {
      checks.exportLatest(n, n == viaCli ? "cli" : n == viaLtx ? "ltx" : "http", n == quick);
    }
    for (PrimaryNode n : nodes) pointChecks(n, n == pick(nodes));
    if (servers.size() > 1) instancesAgree();
    PrimaryNode n = nodes.get(cycle % nodes.size());
    long target = recentPoint(n, false);
    if (target >= 0) checks.restoreAndExport(n, target, choiceRng.nextInt(4) == 0 ? "cli" : "http", true);
    if (last) levelOneCaughtUp();
  }

  /**
   * With several instances, every one must tell the same story (they share one metadata store): the same positions
   * and, for each database, the same restore points, none listed twice. A listing may change between two requests
   * (a flush, a point ageing out), so a difference counts only when it persists over three tries a second apart.
   */
  private void instancesAgree() throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      List<String> differences = new ArrayList<>();
      Map<String, Pos> first = instanceApis.getFirst().positions();
      for (int i = 1; i < instanceApis.size(); i++) {
        Map<String, Pos> other = instanceApis.get(i).positions();
        for (PrimaryNode n : nodes) {
          Pos a = first.getOrDefault(n.name(), Pos.ZERO), b = other.getOrDefault(n.name(), Pos.ZERO);
          if (!a.equals(b)) differences.add(n.name() + ": GET /pos says " + a + " on instance 0, " + b + " on " + i);
        }
      }
      for (PrimaryNode n : nodes) {
        List<Listed> base = instanceApis.getFirst().restorePoints(n.name());
        if (attempt == 1) {
          Set<Long> seen = new HashSet<>();
          for (Listed l : base) {
            if (!seen.add(l.txid())) {
              tally.find(Problem.POINT, n.name(), "/db/info lists restore point " + Txid.format(l.txid())
                  + " more than once");
            }
          }
        }
        for (int i = 1; i < instanceApis.size(); i++) {
          List<Listed> other = instanceApis.get(i).restorePoints(n.name());
          if (!other.equals(base)) {
            Set<Listed> onlyA = new HashSet<>(base), onlyB = new HashSet<>(other);
            onlyA.removeAll(other);
            onlyB.removeAll(base);
            differences.add(n.name() + ": /db/info on instance 0 lists " + base.size() + " points, on instance " + i
                + " " + other.size() + " (only on 0: " + describe(onlyA) + "; only on " + i + ": "
                + describe(onlyB) + ")");
          }
        }
      }
      if (differences.isEmpty()) {
        tally.point("listings and positions compared across instances");
        return;
      }
      if (attempt == 3) {
        for (String d : differences) tally.find(Problem.POINT, "-", "instances disagree: " + d);
        return;
      }
      sleep(1000);
    }
  }

  private static String describe(Set<Listed> points) {
    if (points.isEmpty()) return "none";
    List<String> parts = new ArrayList<>();
    for (Listed l : points) parts.add(Txid.format(l.txid()) + "@" + Timestamps.format(l.timestamp()));
    Collections.sort(parts);
    return String.join(", ", parts.subList(0, Math.min(5, parts.size()))) + (parts.size() > 5 ? ", …" : "");
  }

  /**
   * A request the server did not answer (a timeout, a reset) while it was up and no fault was running: a finding,
   * with the server's threads at that moment for whoever debugs it. The run goes on.
   */
  private void noAnswer(String what, IOException e) {
    List<String> dumps = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      ServerProcess server = servers.get(i);
      String file = "server-threads-cycle-" + cycle + (i == 0 ? "" : "-" + i) + ".txt";
      dumps.add((servers.size() > 1 ? "instance " + i + ": " : "") + (server.alive()
          ? server.threadDump(logs.resolve(file)) : "the server had exited " + server.exitCode()));
    }
    String dump = String.join("; ", dumps);
    tally.find(Problem.SERVER, "-", what + " got no answer: " + e + " (" + dump + ")");
  }

  private boolean pause(List<PrimaryNode> which) throws InterruptedException {
    boolean all = true;
    for (PrimaryNode n : which) {
      if (!n.pause(PAUSE_TIMEOUT)) {
        all = false;
        tally.find(Problem.NODE, n.name(), "could not get in sync with the server within " + PAUSE_TIMEOUT
            .toSeconds() + " s (node at " + n.pos() + "; last error: " + n.lastError() + ")");
      }
    }
    return all;
  }

  private PrimaryNode pick(List<PrimaryNode> from) {
    return from.get(choiceRng.nextInt(from.size()));
  }

  /** Recent points (must resolve), an older one, one inside an upload, listed ones, a time; one through the CLI. */
  private void pointChecks(PrimaryNode n, boolean viaCli) throws IOException {
    List<Listed> listing = checks.listedPoints(n);
    NavigableMap<Long, Lineage.Entry> points = n.lineage().points();
    long now = System.currentTimeMillis();
    List<Long> recent = new ArrayList<>(), older = new ArrayList<>();
    points.forEach((t, e) -> (now - e.ackMillis() < ServerChecks.MUST_KEEP.toMillis() ? recent : older).add(t));
    for (long t : sample(recent, 3)) checks.checkTxid(n, t, false, "http");
    for (long t : sample(older, 1)) checks.checkTxid(n, t, false, "http");
    for (long t : sample(n.lineage().insideBatches(), 1)) checks.checkTxid(n, t, false, "http");
    for (Listed l : sample(listing, 2)) checks.checkTxid(n, l.txid(), true, "http");
    if (viaCli && !recent.isEmpty()) checks.checkTxid(n, recent.get(choiceRng.nextInt(recent.size())), false, "cli");
    long from = listing.isEmpty() ? now - 600_000 : listing.getFirst().timestamp() - 60_000;
    checks.checkTimestamp(n, listing, from + (long) (choiceRng.nextDouble() * (now - from)));
    restorePointsKeepUp(n, listing, points, now);
  }

  /**
   * Level 2 keeps up: 90 s after a 5-minute boundary, the listed restore points reach every TXID acknowledged 20 s
   * before the boundary two before it (faults may make a compaction or two fail; the third must succeed). Reported
   * once per database.
   */
  private void restorePointsKeepUp(PrimaryNode n, List<Listed> listing, NavigableMap<Long, Lineage.Entry> points,
      long now) {
    long interval = 300_000, before = Math.floorDiv(now - 90_000, interval) * interval - 2 * interval - 20_000;
    long due = 0;
    for (var e : points.entrySet()) if (e.getValue().ackMillis() < before) due = Math.max(due, e.getKey());
    long newest = listing.stream().mapToLong(Listed::txid).max().orElse(0);
    if (due > 0 && newest < due && stalled.add(n.name())) {
      tally.find(Problem.STALLED, n.name(), "restore points stop at " + (newest == 0 ? "none" : Txid.format(newest))
          + " but TXID " + Txid.format(due) + " was acknowledged before " + Timestamps.format(before)
          + ", three level-2 intervals ago; see logs/server.log for compaction errors");
    }
  }

  private <T> List<T> sample(List<T> from, int k) {
    List<T> copy = new ArrayList<>(from);
    Collections.shuffle(copy, choiceRng);
    return copy.subList(0, Math.min(k, copy.size()));
  }

  /**
   * After the last cycle, with the faults over: within two level-1 intervals everything acknowledged must be in
   * level 1 (a Litefs-Hwm at least the position before the wait), i.e. compaction recovered from every fault.
   */
  private void levelOneCaughtUp() throws InterruptedException {
    Map<PrimaryNode, Long> before = new HashMap<>();
    for (PrimaryNode n : nodes) if (n.syncUntilInSync(10)) before.put(n, n.pos().txid());
    sleep(21_000);
    for (PrimaryNode n : before.keySet()) {
      try {
        n.commit();
      } catch (IOException e) {
        tally.find(Problem.HARNESS, n.name(), "commit: " + e.getMessage());
        continue;
      }
      if (!n.syncUntilInSync(10)) continue;
      if (n.hwm() < before.get(n)) {
        tally.find(Problem.STALLED, n.name(), "level 1 did not catch up: Litefs-Hwm " + Txid.format(n.hwm())
            + " is below TXID " + Txid.format(before.get(n)) + ", acknowledged more than 20 s before");
      }
    }
  }

  /** "db0: L1 12, L2 3, L9 1; …" read straight from the bucket (a note, not a check). */
  private String describeStorage() {
    List<String> parts = new ArrayList<>();
    try {
      ReplicaClient root = s3.client().child(CLUSTER);
      for (PrimaryNode n : nodes.isEmpty() ? List.<PrimaryNode>of() : nodes) {
        ReplicaClient c = root.child(n.name());
        List<String> levels = new ArrayList<>();
        for (int level = 1; level <= 9; level++) {
          List<LtxFileMeta> files = c.listFiles(level);
          if (!files.isEmpty()) levels.add("L" + level + " " + files.size());
        }
        parts.add(n.name() + ": " + String.join(", ", levels));
      }
    } catch (IOException | RuntimeException e) {
      return "not listed: " + e.getMessage();
    }
    return String.join("; ", parts);
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
        Files.writeString(logs.resolve("torture.log"), line + "\n", StandardCharsets.UTF_8,
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        // the console has it
      }
    }
  }

  long elapsedMillis() {
    return System.currentTimeMillis() - startMillis;
  }
}
