package dev.strata.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code strata replicate} against an application writing as fast as it can, measured in one run:
 *
 * <ol>
 *   <li><b>Throughput</b>: a writer (JDBC, WAL, {@code synchronous=NORMAL}, one small INSERT per transaction)
 *       alone, then with {@code strata replicate} (a child JVM, file replica, default settings) alongside;
 *       alternated for several rounds. Ratio = median with / median without (target ≥ 0.95).
 *   <li><b>Lag</b>: commits at a steady rate; for each, the time until the replica holds a file containing its
 *       TXID (the file is durable once visible: the file backend renames after fsync). p50/p99 at sync intervals
 *       of 1 s and 100 ms.
 *   <li><b>Idle</b>: an agent replicating 100 databases that nobody writes: CPU used over a window, heap after GC,
 *       RSS and threads, and whether any replica file changed.
 *   <li><b>Follow</b>: the same steady commits, and the time until a follower ({@code strata restore -f}) shows
 *       each to a reader of its output: p50/p99 at sync/poll intervals of 1 s/1 s and 100 ms/100 ms.
 * </ol>
 *
 * Usage: {@code bin/bench-replicate [--seconds N] [--rounds N] [--lag-seconds N] [--dbs N] [--idle-seconds N]
 * [--dir DIR] [--checkpoint-pages N] [--only throughput|lag|idle|follow]}
 */
public final class ReplicateBench {
  private final Path root;
  private final int seconds;
  private final int rounds;
  private final int lagSeconds;
  private final int dbs;
  private final int idleSeconds;
  private int checkpointPages = 500;

  private ReplicateBench(Path root, int seconds, int rounds, int lagSeconds, int dbs, int idleSeconds) {
    this.root = root;
    this.seconds = seconds;
    this.rounds = rounds;
    this.lagSeconds = lagSeconds;
    this.dbs = dbs;
    this.idleSeconds = idleSeconds;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    Path root = opt.containsKey("dir") ? Path.of(opt.get("dir")) : Files.createTempDirectory("strata-bench");
    var b = new ReplicateBench(root, Integer.parseInt(opt.getOrDefault("seconds", "10")),
        Integer.parseInt(opt.getOrDefault("rounds", "3")), Integer.parseInt(opt.getOrDefault("lag-seconds", "20")),
        Integer.parseInt(opt.getOrDefault("dbs", "100")), Integer.parseInt(opt.getOrDefault("idle-seconds", "30")));
    b.checkpointPages = Integer.parseInt(opt.getOrDefault("checkpoint-pages", "500"));
    String only = opt.get("only");
    System.out.printf("strata replicate benchmark (%d cores, %s, java %s), work dir %s%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"), Runtime.version(), root);
    if (only == null || only.equals("throughput")) b.throughput();
    if (only == null || only.equals("lag")) {
      b.lag(Duration.ofSeconds(1));
      b.lag(Duration.ofMillis(100));
    }
    if (only == null || only.equals("idle")) b.idle();
    if (only == null || only.equals("follow")) {
      b.followLag(Duration.ofSeconds(1), Duration.ofSeconds(1));
      b.followLag(Duration.ofMillis(100), Duration.ofMillis(100));
    }
  }

  // --- throughput ---

  private void throughput() throws Exception {
    Path dir = fresh("throughput");
    Path db = dir.resolve("app.db");
    Path replica = dir.resolve("replica");
    try (Connection c = appConnection(db)) {
      exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      write(c, Duration.ofSeconds(2)); // warm up SQLite and the JIT
      List<Double> without = new ArrayList<>(), with = new ArrayList<>(), ratios = new ArrayList<>();
      String maxLock = "";
      for (int r = 1; r <= rounds; r++) {
        double a = write(c, Duration.ofSeconds(seconds));
        without.add(a);
        Path config = dir.resolve("strata.yml");
        Files.writeString(config, "addr: 127.0.0.1:" + freePort() + "\ndbs:\n  - path: " + db
            + "\n    min-checkpoint-page-count: " + checkpointPages + "\n    replica:\n      path: " + replica + "\n");
        Agent agent = Agent.start(root, List.of("replicate", "-config", config.toString()), dir.resolve("agent.log"));
        agent.awaitSnapshot(replica);
        write(c, Duration.ofSeconds(3)); // the agent's JIT warms up: measure its steady state, not its start-up
        Duration cpu0 = agent.cpu();
        double b = write(c, Duration.ofSeconds(seconds));
        double agentCores = agent.cpu().minus(cpu0).toNanos() / 1e9 / seconds;
        with.add(b);
        ratios.add(b / a);
        maxLock = agent.metric("strata_db_write_lock_max_seconds");
        String checkpoints = agent.metric("strata_db_checkpoints_total");
        String lockTotal = agent.metric("strata_db_write_lock_seconds_total");
        String walMax = agent.metric("strata_db_wal_frames_max");
        agent.stop();
        System.out.printf("  round %d: without %,.0f commits/s, with strata %,.0f commits/s (ratio %.3f; agent used "
            + "%.2f cores, %s checkpoints, write lock held %s ms in all, longest %s ms, WAL at most %s frames; load "
            + "average %s)%n", r, a, b, b / a, agentCores, checkpoints, millis(lockTotal), millis(maxLock), walMax,
            loadAverage());
      }
      // other processes share the machine: the median of the rounds' paired ratios resists their bursts best
      double ratio = median(ratios);
      System.out.printf("throughput: median without %,.0f commits/s, with strata %,.0f commits/s; median of paired "
          + "ratios %.3f (rounds %.2f..%.2f; target >= 0.95: %s)%n", median(without), median(with), ratio,
          ratios.stream().mapToDouble(x -> x).min().orElse(0), ratios.stream().mapToDouble(x -> x).max().orElse(0),
          ratio >= 0.95 ? "met" : "NOT met");
    }
  }

  /** Commits one small INSERT per transaction for {@code d}; returns commits per second. */
  private static double write(Connection c, Duration d) throws SQLException {
    byte[] payload = new byte[100];
    Arrays.fill(payload, (byte) 'x');
    String v = new String(payload, StandardCharsets.US_ASCII);
    long n = 0;
    long start = System.nanoTime(), end = start + d.toNanos();
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO t(v) VALUES (?)")) {
      ps.setString(1, v);
      long now;
      while ((now = System.nanoTime()) < end) {
        for (int i = 0; i < 100; i++) ps.executeUpdate();
        n += 100;
      }
      return n / ((now - start) / 1e9);
    }
  }

  // --- lag ---

  private void lag(Duration interval) throws Exception {
    Path dir = fresh("lag-" + interval.toMillis() + "ms");
    Path db = dir.resolve("app.db");
    Path replica = dir.resolve("replica");
    try (Connection c = appConnection(db)) {
      exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      Agent agent = Agent.start(root, List.of("replicate", "-sync-interval", interval.toMillis() + "ms",
          db.toString(), replica.toString()), dir.resolve("agent.log"));
      long snapshotTxid = agent.awaitSnapshot(replica);
      int rate = 50;
      int count = lagSeconds * rate;
      long[] committed = new long[count];
      long[] visible = new long[count];
      Thread poller = Thread.ofPlatform().start(() -> poll(replica.resolve("0"), snapshotTxid, visible));
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO t(v) VALUES ('lag')")) {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
          long due = start + (long) (i * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
          ps.executeUpdate();
          committed[i] = System.nanoTime();
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (visible[count - 1] == 0 && System.nanoTime() < deadline) Thread.sleep(10);
      poller.interrupt();
      poller.join();
      agent.stop();
      double[] lags = new double[count];
      for (int i = 0; i < count; i++) {
        lags[i] = visible[i] == 0 ? Double.NaN : (visible[i] - committed[i]) / 1e6;
      }
      Arrays.sort(lags);
      System.out.printf("lag at sync interval %s: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d commits at %d/s)%n",
          interval.toMillis() >= 1000 ? interval.toSeconds() + "s" : interval.toMillis() + "ms",
          lags[count / 2], lags[(int) (count * 0.99)], lags[count - 1], count, rate);
    }
  }

  /** Records, for each commit index, when a level-0 file covering its TXID became visible. */
  private static void poll(Path level0, long snapshotTxid, long[] visible) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    while (!Thread.currentThread().isInterrupted()) {
      long now = System.nanoTime();
      if (Files.isDirectory(level0)) {
        try (Stream<Path> s = Files.list(level0)) {
          for (Path p : s.toList()) {
            String n = p.getFileName().toString();
            if (!n.endsWith(".ltx") || !seen.add(n)) continue;
            long min = Long.parseUnsignedLong(n.substring(0, 16), 16);
            long max = Long.parseUnsignedLong(n.substring(17, 33), 16);
            for (long t = min; t <= max; t++) {
              int i = (int) (t - snapshotTxid - 1);
              if (i >= 0 && i < visible.length && visible[i] == 0) visible[i] = now;
            }
          }
        } catch (IOException e) {
          // listing raced a rename; the next poll sees it
        }
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  // --- follow ---

  /**
   * Lag from a commit on the primary to its visibility in a follower ({@code strata restore -f}, file replica): a
   * reader in this process polls the follower's output every 2 ms for the highest row id; p50/p99 against the
   * target of sync interval + poll interval + 100 ms.
   */
  private void followLag(Duration sync, Duration poll) throws Exception {
    Path dir = fresh("follow-" + sync.toMillis() + "ms-" + poll.toMillis() + "ms");
    Path db = dir.resolve("app.db");
    Path replica = dir.resolve("replica");
    Path out = dir.resolve("follower.db");
    try (Connection c = appConnection(db)) {
      exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      Agent agent = Agent.start(root, List.of("replicate", "-sync-interval", sync.toMillis() + "ms", db.toString(),
          replica.toString()), dir.resolve("agent.log"));
      agent.awaitSnapshot(replica);
      Agent follower = Agent.start(root, List.of("restore", "-f", "-o", out.toString(), replica.toString(),
          "--interval", poll.toMillis() + "ms"), dir.resolve("follower.log"));
      for (int i = 0; i < 600 && !Files.exists(out); i++) Thread.sleep(100);
      int rate = 50;
      int count = lagSeconds * rate;
      long[] committed = new long[count];
      long[] visible = new long[count];
      Thread reader = Thread.ofPlatform().start(() -> readFollower(out, visible));
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO t(id, v) VALUES (?, 'lag')")) {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
          long due = start + (long) (i * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
          ps.setInt(1, i + 1);
          ps.executeUpdate();
          committed[i] = System.nanoTime();
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (visible[count - 1] == 0 && System.nanoTime() < deadline) Thread.sleep(10);
      reader.interrupt();
      reader.join();
      follower.stop();
      agent.stop();
      double[] lags = new double[count];
      for (int i = 0; i < count; i++) lags[i] = visible[i] == 0 ? Double.NaN : (visible[i] - committed[i]) / 1e6;
      Arrays.sort(lags);
      double target = sync.toMillis() + poll.toMillis() + 100;
      System.out.printf("follow lag (commit -> visible in the follower) at sync %d ms, poll %d ms: p50 %.0f ms,"
          + " p99 %.0f ms, max %.0f ms (%d commits at %d/s; target p99 <= %.0f ms: %s)%n", sync.toMillis(),
          poll.toMillis(), lags[count / 2], lags[(int) (count * 0.99)], lags[count - 1], count, rate, target,
          lags[(int) (count * 0.99)] <= target ? "met" : "NOT met");
    }
  }

  /** Records, for each row id, when the follower's output first showed it. */
  private static void readFollower(Path out, long[] visible) {
    int seen = 0;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + out + "?mode=ro");
        Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout=5000");
      while (!Thread.currentThread().isInterrupted() && seen < visible.length) {
        long max;
        try (var rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM t")) {
          max = rs.getLong(1);
        }
        long now = System.nanoTime();
        for (; seen < Math.min(max, visible.length); seen++) visible[seen] = now;
        Thread.sleep(2);
      }
    } catch (SQLException e) {
      System.err.println("follower reader: " + e.getMessage());
    } catch (InterruptedException e) {
      // done
    }
  }

  // --- idle ---

  private void idle() throws Exception {
    Path dir = fresh("idle");
    StringBuilder yml = new StringBuilder("dbs:\n");
    for (int i = 0; i < dbs; i++) {
      Path db = dir.resolve("db" + i + ".db");
      try (Connection c = appConnection(db)) {
        exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
        for (int k = 0; k < 20; k++) exec(c, "INSERT INTO t(v) VALUES ('some row of data')");
      }
      yml.append("  - path: ").append(db).append("\n    replica:\n      path: ").append(dir.resolve("replica/db" + i))
          .append('\n');
    }
    Path config = dir.resolve("strata.yml");
    Files.writeString(config, yml);
    Agent agent = Agent.start(root, List.of("replicate", "-config", config.toString()), dir.resolve("agent.log"));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (countFiles(dir.resolve("replica")) < dbs && System.nanoTime() < deadline) Thread.sleep(100);
    Thread.sleep(3000); // let start-up settle
    String before = listing(dir.resolve("replica"));
    ProcessHandle h = agent.process.toHandle();
    Duration cpu0 = h.info().totalCpuDuration().orElse(Duration.ZERO);
    long t0 = System.nanoTime();
    Thread.sleep(idleSeconds * 1000L);
    Duration cpu1 = h.info().totalCpuDuration().orElse(Duration.ZERO);
    double wall = (System.nanoTime() - t0) / 1e9;
    String after = listing(dir.resolve("replica"));
    String heap = agent.heapAfterGc();
    String status = Files.readString(Path.of("/proc/" + h.pid() + "/status"));
    agent.stop();
    System.out.printf("idle agent with %d databases over %.0f s: CPU %.2f%% of one core (%d ms), heap used after GC "
        + "%s, RSS %s, %s threads; replica files changed: %s%n", dbs, wall,
        100.0 * cpu1.minus(cpu0).toMillis() / (wall * 1000), cpu1.minus(cpu0).toMillis(), heap, field(status, "VmRSS"),
        field(status, "Threads"), before.equals(after) ? "none" : "YES");
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  private static String field(String status, String name) {
    for (String line : status.split("\n")) {
      if (line.startsWith(name + ":")) return line.substring(name.length() + 1).trim();
    }
    return "?";
  }

  private static long countFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return 0;
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".ltx")).count();
    }
  }

  private static String listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      StringBuilder b = new StringBuilder();
      for (Path p : s.sorted().toList()) {
        b.append(p).append(' ').append(Files.getLastModifiedTime(p).toMillis()).append('\n');
      }
      return b.toString();
    }
  }

  // --- helpers ---

  /** An application's connection: WAL, synchronous=NORMAL, a busy timeout. */
  private static Connection appConnection(Path db) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
    exec(c, "PRAGMA journal_mode=WAL");
    exec(c, "PRAGMA synchronous=NORMAL");
    exec(c, "PRAGMA busy_timeout=5000");
    return c;
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private Path fresh(String name) throws IOException {
    Path d = root.resolve(name);
    if (Files.exists(d)) {
      try (Stream<Path> s = Files.walk(d)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
      }
    }
    return Files.createDirectories(d);
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  private static String millis(String seconds) {
    try {
      return String.format("%.1f", Double.parseDouble(seconds) * 1000);
    } catch (NumberFormatException e) {
      return "?";
    }
  }

  private static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** {@code strata replicate} in a child JVM, as it runs in production. */
  private static final class Agent {
    final Process process;
    final String addr;

    private Agent(Process process, String addr) {
      this.process = process;
      this.addr = addr;
    }

    static Agent start(Path root, List<String> args, Path log) throws IOException {
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
          "-cp", System.getProperty("java.class.path"), "dev.strata.cli.Main"));
      cmd.addAll(args);
      String addr = null;
      int i = args.indexOf("-addr");
      if (i >= 0) addr = args.get(i + 1);
      i = args.indexOf("-config");
      if (i >= 0) {
        for (String line : Files.readAllLines(Path.of(args.get(i + 1)))) {
          if (line.startsWith("addr: ")) addr = line.substring(6).trim();
        }
      }
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      return new Agent(p, addr);
    }

    /** Waits for the first snapshot on the replica and returns its TXID. */
    long awaitSnapshot(Path replica) throws Exception {
      Path l9 = replica.resolve("9");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) throw new IOException("strata exited with " + process.exitValue());
        if (Files.isDirectory(l9)) {
          try (Stream<Path> s = Files.list(l9)) {
            var names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ltx")).sorted().toList();
            if (!names.isEmpty()) return Long.parseUnsignedLong(names.getLast().substring(17, 33), 16);
          }
        }
        Thread.sleep(20);
      }
      throw new IOException("no snapshot within 60 s");
    }

    /** CPU time the agent process used so far. */
    Duration cpu() {
      return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
    }

    /** A value from the agent's /metrics (summed over labels), or "?" without metrics. */
    String metric(String name) {
      if (addr == null) return "?";
      try (InputStream in = java.net.URI.create("http://" + addr + "/metrics").toURL().openStream()) {
        double sum = 0;
        boolean found = false;
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
          if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
            sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            found = true;
          }
        }
        return found ? Double.toString(sum) : "?";
      } catch (IOException e) {
        return "?";
      }
    }

    /** Heap in use after a full GC, from jcmd. */
    String heapAfterGc() throws Exception {
      Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
      run(jcmd.toString(), Long.toString(process.pid()), "GC.run");
      String out = run(jcmd.toString(), Long.toString(process.pid()), "GC.heap_info");
      for (String line : out.split("\n")) {
        int at = line.indexOf("used ");
        if (line.contains("total") && at >= 0) return line.substring(at + 5).split("[ ,]")[0];
      }
      return "?";
    }

    private static String run(String... cmd) throws Exception {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      return out;
    }

    /** SIGTERM (final sync), then waits for the exit. */
    void stop() throws Exception {
      process.destroy();
      if (!process.waitFor(120, TimeUnit.SECONDS)) process.destroyForcibly();
    }
  }
}
