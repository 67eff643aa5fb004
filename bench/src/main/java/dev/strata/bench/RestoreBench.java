package dev.strata.bench;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.level.LevelSchedule;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import dev.strata.replica.testing.S3ProxyServer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Restore and storage benchmark (issue 7). Builds a SQLite database of the given size, backs it up the way the
 * agent does (a level-9 snapshot, then one level-0 file per one-second sync pass, captured from the WAL), runs the
 * real {@link LevelSchedule} on a fake clock, and prints:
 *
 * <ul>
 *   <li>storage: replica bytes against database bytes after 20,000 small updates over one minute, as compaction
 *       and retention proceed (target at most 1.1x);
 *   <li>restore time of the snapshot plus a day of compacted changes from a file replica and from S3 (S3Proxy on
 *       loopback), against {@code cp} + {@code sync} of the same database file measured in the same run (target at
 *       most 1.5x), with the plan's shape and the requests it made;
 *   <li>peak heap of a restore in a JVM capped at 64 MiB, for a small database and the large one.
 * </ul>
 *
 * Usage: {@code bin/bench-restore [--size-mib 1024] [--dir DIR] [--rounds 5] [--keep]}.
 */
public final class RestoreBench {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:05Z");
  private static final Path STRATA = Path.of("bin", "strata"); // bin/bench-restore runs from the repository root

  private final Path dir;
  private final long sizeBytes;
  private final int rounds;
  private final Random rnd = new Random(2026);
  private long rows;

  private RestoreBench(Path dir, long sizeBytes, int rounds) {
    this.dir = dir;
    this.sizeBytes = sizeBytes;
    this.rounds = rounds;
  }

  public static void main(String[] args) throws Exception {
    if (args.length >= 4 && args[0].equals("--child")) {
      child(Path.of(args[1]), Path.of(args[2]), Long.parseLong(args[3]));
      return;
    }
    long mib = 1024;
    int rounds = 5;
    boolean keep = false;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "strata-restore-bench");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--size-mib" -> mib = Long.parseLong(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--keep" -> keep = true;
        default -> {
          System.out.println("usage: bin/bench-restore [--size-mib 1024] [--dir DIR] [--rounds 5] [--keep]");
          return;
        }
      }
    }
    DirectoryTree.delete(dir);
    Files.createDirectories(dir);
    try {
      new RestoreBench(dir, mib << 20, rounds).run();
    } finally {
      if (!keep) DirectoryTree.delete(dir);
    }
  }

  private void run() throws Exception {
    System.out.printf(Locale.ROOT, "RestoreBench: %d MiB database in %s, %d rounds, %d cores, load %s%n",
        sizeBytes >> 20, dir, rounds, Runtime.getRuntime().availableProcessors(), load());
    Path db = dir.resolve("bench.db");
    long t = System.nanoTime();
    build(db, sizeBytes);
    System.out.printf(Locale.ROOT, "built %s (%d rows) in %.1f s%n", mib(Files.size(db)), rows, secs(t));

    FakeClock clock = new FakeClock(T0);
    FileReplicaClient file = new FileReplicaClient(dir.resolve("replica"));
    CountingReplicaClient replica = new CountingReplicaClient(file);
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    LtxChain chain = new LtxChain(replica, clock, scratch);
    LevelSchedule compactor = new LevelSchedule(replica, LevelConfig.defaults(), clock, scratch);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL"); // as an application using the agent runs
        s.execute("PRAGMA wal_autocheckpoint=0");
        s.execute("PRAGMA synchronous=OFF");
        s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      }
      t = System.nanoTime();
      LtxFileMeta snapshot = chain.snapshotFile(db);
      compactor.noteWritten(snapshot);
      System.out.printf(Locale.ROOT, "snapshot: %s LTX for a %s database (%.2fx) in %.1f s%n", mib(snapshot.size()),
          mib(Files.size(db)), (double) snapshot.size() / Files.size(db), secs(t));
      storage(c, db, clock, chain, compactor, file);
      day(c, db, clock, chain, compactor);
    }
    restoreTimes(db, file);
    s3(db, file);
    heap(db, file);
  }

  // ---- storage ----

  /** 20,000 small updates over a minute, one level-0 file per second; replica bytes as compaction proceeds. */
  private void storage(Connection c, Path db, FakeClock clock, LtxChain chain, LevelSchedule compactor,
      FileReplicaClient file) throws Exception {
    System.out.println();
    System.out.println("storage: 20,000 single-row updates over one minute, one level-0 file per second");
    int updates = 20_000, passes = 60;
    long t = System.nanoTime();
    for (int pass = 0; pass < passes; pass++) {
      clock.advance(Duration.ofSeconds(1));
      int n = updates / passes + (pass < updates % passes ? 1 : 0);
      update(c, n, 10);
      capture(c, db, chain, compactor);
      tick(clock, compactor);
    }
    System.out.printf(Locale.ROOT, "  wrote %d updates as %d level-0 files in %.1f s (wall)%n", updates, passes,
        secs(t));
    long dbBytes = Files.size(db);
    report(file, dbBytes, "after the minute");
    advance(clock, compactor, Duration.ofMinutes(6));
    report(file, dbBytes, "+6 min (level 0 removed, level 2 built)");
    advance(clock, compactor, Duration.ofMinutes(60));
    report(file, dbBytes, "+66 min (level 3 built, level 1 expired)");
    advance(clock, compactor, Duration.ofHours(2));
    report(file, dbBytes, "+3 h (settled)");
  }

  private static void report(FileReplicaClient file, long dbBytes, String when) throws IOException {
    ReplicaFiles files = ReplicaFiles.list(file);
    StringBuilder levels = new StringBuilder();
    for (int l = 0; l <= ReplicaClient.MAX_LEVEL; l++) {
      List<LtxFileMeta> lv = files.level(l);
      if (lv.isEmpty()) continue;
      long b = lv.stream().mapToLong(LtxFileMeta::size).sum();
      levels.append(String.format(Locale.ROOT, " L%d=%d files/%s", l, lv.size(), mib(b)));
    }
    System.out.printf(Locale.ROOT, "  %-42s replica %s = %.3fx the database%s%n", when, mib(files.totalBytes()),
        (double) files.totalBytes() / dbBytes, levels);
  }

  // ---- a day of changes ----

  /** Until just before the next midnight: a sync pass every minute (every 10 s in the last 5 min). */
  private void day(Connection c, Path db, FakeClock clock, LtxChain chain, LevelSchedule compactor)
      throws Exception {
    System.out.println();
    long t = System.nanoTime();
    Instant end = T0.plus(Duration.ofDays(1)).minusSeconds(40);
    int passes = 0;
    while (clock.instant().isBefore(end)) {
      boolean busy = clock.instant().isAfter(end.minus(Duration.ofMinutes(5)));
      clock.advance(Duration.ofSeconds(busy ? 10 : 60));
      update(c, 20, 5);
      capture(c, db, chain, compactor);
      tick(clock, compactor);
      passes++;
    }
    System.out.printf(Locale.ROOT, "day: %d sync passes of 20 updates until %s, compacted, in %.1f s (wall)%n",
        passes, clock.instant(), secs(t));
  }

  private void update(Connection c, int n, int perTxn) throws SQLException {
    c.setAutoCommit(false);
    try (PreparedStatement ps = c.prepareStatement("UPDATE t SET n = n + 1 WHERE id = ?")) {
      for (int i = 0; i < n; i++) {
        ps.setLong(1, 1 + (long) (rnd.nextDouble() * rows));
        ps.executeUpdate();
        if ((i + 1) % perTxn == 0 || i == n - 1) c.commit();
      }
    } finally {
      c.setAutoCommit(true);
    }
  }

  private static void capture(Connection c, Path db, LtxChain chain, LevelSchedule compactor) throws Exception {
    LtxFileMeta m = chain.incrementWal(db);
    if (m != null) compactor.noteWritten(m);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
  }

  private static void tick(FakeClock clock, LevelSchedule compactor) throws IOException {
    if (!clock.instant().isBefore(compactor.nextDue())) compactor.runDue();
  }

  private static void advance(FakeClock clock, LevelSchedule compactor, Duration d) throws IOException {
    Instant end = clock.instant().plus(d);
    while (clock.instant().isBefore(end)) {
      clock.advance(Duration.ofSeconds(10));
      tick(clock, compactor);
    }
  }

  // ---- restore time ----

  private void restoreTimes(Path db, FileReplicaClient file) throws Exception {
    System.out.println();
    CountingReplicaClient counting = new CountingReplicaClient(file);
    RestorePlan plan = new RestorePlanner(counting).latest();
    Map<Integer, Integer> shape = new TreeMap<>();
    for (LtxFileMeta f : plan.files()) shape.merge(f.level(), 1, Integer::sum);
    System.out.printf(Locale.ROOT, "restore plan: %d files, %s (files per level %s), planned with %d listings%n",
        plan.files().size(), mib(plan.totalBytes()), shape, counting.lists.get());
    long dbBytes = Files.size(db);
    List<Double> cp = new ArrayList<>(), quick = new ArrayList<>(), none = new ArrayList<>(), cli = new ArrayList<>();
    System.out.printf(Locale.ROOT, "strata restore CLI: %s (first run untimed: it may train the AOT cache)%n",
        Files.isExecutable(STRATA) ? STRATA : "a plain JVM, no AOT cache (not run from the repository root)");
    cliRestore(file.root());
    for (int r = 0; r < rounds; r++) {
      cp.add(copyAndSync(db));
      quick.add(restore(file, plan, IntegrityCheck.QUICK, db, r == 0));
      none.add(restore(file, plan, IntegrityCheck.NONE, db, false));
      cli.add(cliRestore(file.root()));
      System.out.printf(Locale.ROOT, "  round %d: cp+sync %.2f s, restore %.2f s (quick check), %.2f s (no check), "
          + "strata restore CLI %.2f s; load %s%n", r + 1, cp.getLast(), quick.getLast(), none.getLast(),
          cli.getLast(), load());
    }
    double base = median(cp);
    System.out.printf(Locale.ROOT, "restore of %s from a file replica (median of %d): cp+sync %.2f s (%.0f MiB/s)%n",
        mib(dbBytes), rounds, base, dbBytes / 1048576.0 / base);
    System.out.printf(Locale.ROOT, "  restore, quick check (default): %.2f s = %.2fx cp+sync (best round %.2fx)%n",
        median(quick), median(quick) / base, bestRatio(quick, cp));
    System.out.printf(Locale.ROOT, "  restore, no check:              %.2f s = %.2fx cp+sync (best round %.2fx)%n",
        median(none), median(none) / base, bestRatio(none, cp));
    System.out.printf(Locale.ROOT, "  strata restore (CLI, new JVM):  %.2f s = %.2fx cp+sync (best round %.2fx)%n",
        median(cli), median(cli) / base, bestRatio(cli, cp));
    Path out = dir.resolve("counted.db");
    CountingReplicaClient requests = new CountingReplicaClient(file); // not a FileReplicaClient: downloads
    new RestoreExecutor(requests, new RestoreExecutor.Options(8, IntegrityCheck.NONE, true, RestoreProgress.silent()))
        .restore(new RestorePlanner(requests).latest(), out);
    System.out.printf(Locale.ROOT, "  requests of a restore through the download path: %d listings, %d reads, "
        + "%d writes, %d deletes%n", requests.lists.get(), requests.opens.get(), requests.writes.get(),
        requests.deletes.get());
    Files.delete(out);
  }

  private double copyAndSync(Path db) throws Exception {
    Path copy = dir.resolve("copy.db");
    Files.deleteIfExists(copy);
    long t = System.nanoTime();
    Process p = new ProcessBuilder("sh", "-c", "cp \"$1\" \"$2\" && sync \"$2\"", "sh", db.toString(),
        copy.toString()).inheritIO().start();
    if (p.waitFor() != 0) throw new IOException("cp + sync failed");
    double s = secs(t);
    Files.delete(copy);
    return s;
  }

  private double restore(FileReplicaClient file, RestorePlan plan, IntegrityCheck check, Path db, boolean compare)
      throws Exception {
    Path out = dir.resolve("restored.db");
    Files.deleteIfExists(out);
    long t = System.nanoTime();
    new RestoreExecutor(file, new RestoreExecutor.Options(8, check, false, RestoreProgress.silent()))
        .restore(plan, out);
    double s = secs(t);
    if (compare && !sameBytes(out, db)) throw new IllegalStateException("restored file differs from the database");
    Files.delete(out);
    return s;
  }

  /**
   * Times {@code bin/strata restore} as a user runs it (with its AOT cache), or the CLI class in a plain JVM when
   * the benchmark does not run from the repository's root.
   */
  private double cliRestore(Path replica) throws Exception {
    Path out = dir.resolve("cli.db");
    Files.deleteIfExists(out);
    long t = System.nanoTime();
    ProcessBuilder pb = Files.isExecutable(STRATA) ? new ProcessBuilder(STRATA.toString(), "restore", "-o",
        out.toString(), replica.toString()) : java(List.of(), "dev.strata.cli.Main", "restore", "-o",
        out.toString(), replica.toString());
    Process p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (p.waitFor() != 0) throw new IOException("strata restore failed");
    double s = secs(t);
    Files.delete(out);
    return s;
  }

  // ---- S3 ----

  /** The same replica copied into S3Proxy (objects in a local directory): restore time and requests. */
  private void s3(Path db, FileReplicaClient file) throws Exception {
    System.out.println();
    try (S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3")); ReplicaClient remote = ReplicaUrl.open(s3.url("db"))) {
      long t = System.nanoTime();
      for (LtxFileMeta f : ReplicaFiles.list(file).all()) {
        LtxFileInfo info;
        try (InputStream in = file.openFile(f.level(), f.range(), 0)) {
          info = LtxDecoder.verify(in);
        }
        try (InputStream in = file.openFile(f.level(), f.range(), 0)) {
          remote.writeFile(f.level(), info, in, f.size());
        }
      }
      System.out.printf(Locale.ROOT, "S3 (S3Proxy on loopback, objects on this disk): replica uploaded in %.1f s%n",
          secs(t));
      LtxFileMeta snap = remote.listFiles(9).getFirst();
      t = System.nanoTime();
      try (InputStream in = remote.openFile(9, snap.range(), 0)) {
        in.transferTo(java.io.OutputStream.nullOutputStream());
      }
      double get = secs(t);
      System.out.printf(Locale.ROOT, "  S3Proxy alone: one GET of the %s snapshot takes %.2f s (%.0f MiB/s)%n",
          mib(snap.size()), get, snap.size() / 1048576.0 / get);
      List<Double> cp = new ArrayList<>(), s3t = new ArrayList<>();
      for (int r = 0; r < Math.max(1, rounds / 2); r++) {
        cp.add(copyAndSync(db));
        Path out = dir.resolve("s3-restored.db");
        Files.deleteIfExists(out);
        CountingReplicaClient counting = new CountingReplicaClient(remote);
        t = System.nanoTime();
        RestorePlan plan = new RestorePlanner(counting).latest();
        new RestoreExecutor(counting, new RestoreExecutor.Options(8, IntegrityCheck.QUICK, false,
            RestoreProgress.silent())).restore(plan, out);
        s3t.add(secs(t));
        if (r == 0) {
          if (!sameBytes(out, db)) throw new IllegalStateException("S3 restore differs from the database");
          System.out.printf(Locale.ROOT, "  requests of one restore: %d LIST, %d HEAD, %d GET (%d files), %d PUT, "
              + "%d DELETE%n", counting.lists.get(), counting.heads.get(), counting.opens.get(), plan.files().size(),
              counting.writes.get(), counting.deletes.get());
        }
        Files.delete(out);
        System.out.printf(Locale.ROOT, "  round %d: cp+sync %.2f s, restore from S3 %.2f s (quick check); load %s%n",
            r + 1, cp.getLast(), s3t.getLast(), load());
      }
      System.out.printf(Locale.ROOT, "restore from S3 (median): %.2f s = %.2fx cp+sync (best round %.2fx)%n",
          median(s3t), median(s3t) / median(cp), bestRatio(s3t, cp));
    }
  }

  // ---- heap ----

  private void heap(Path db, FileReplicaClient file) throws Exception {
    System.out.println();
    Path small = dir.resolve("small");
    Files.createDirectories(small);
    Path smallDb = small.resolve("small.db");
    long saved = rows;
    build(smallDb, Math.min(64L << 20, sizeBytes / 8));
    rows = saved;
    FileReplicaClient smallReplica = new FileReplicaClient(small.resolve("replica"));
    new LtxChain(smallReplica, new FakeClock(T0), small).snapshotFile(smallDb);
    long snapshotTxid = file.listFiles(9).getFirst().maxTxid();
    long smallPeak = childPeak(smallReplica.root(), 1, small.resolve("restored.db"));
    long bigPeak = childPeak(file.root(), snapshotTxid, dir.resolve("restored-heap.db"));
    long fullPeak = childPeak(file.root(), 0, dir.resolve("restored-heap.db"));
    System.out.printf(Locale.ROOT, "peak live heap of a restore (a JVM with -Xmx64m, sampled after full GCs):%n");
    System.out.printf(Locale.ROOT, "  snapshot only: %s for a %s database, %s for a %s database%n", mib(smallPeak),
        mib(Files.size(smallDb)), mib(bigPeak), mib(Files.size(db)));
    System.out.printf(Locale.ROOT, "  snapshot + a day of changes (%d files): %s%n",
        new RestorePlanner(file).latest().files().size(), mib(fullPeak));
  }

  private long childPeak(Path replica, long txid, Path out) throws Exception {
    Files.deleteIfExists(out);
    Process p = java(List.of("-Xmx64m"), RestoreBench.class.getName(), "--child", replica.toString(), out.toString(),
        Long.toString(txid)).redirectErrorStream(true).start();
    String text;
    try (InputStream in = p.getInputStream()) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (p.waitFor() != 0) throw new IOException("restore with -Xmx64m failed: " + text);
    Files.deleteIfExists(out);
    for (String line : text.lines().toList()) {
      if (line.startsWith("peak-heap ")) return Long.parseLong(line.substring(10).trim());
    }
    throw new IOException("child printed no peak heap: " + text);
  }

  /**
   * In a child JVM: restores TXID {@code txid} (0: the latest) and prints the peak live heap, sampled every 50 ms
   * after a forced full GC (so that garbage not yet collected does not count).
   */
  private static void child(Path replica, Path out, long txid) throws Exception {
    java.util.concurrent.atomic.AtomicLong peak = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread sampler = Thread.ofPlatform().daemon().start(() -> {
      while (running.get()) {
        System.gc();
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
          if (pool.getType() == MemoryType.HEAP) used += pool.getUsage().getUsed();
        }
        peak.accumulateAndGet(used, Math::max);
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    FileReplicaClient client = new FileReplicaClient(replica);
    RestorePlanner planner = new RestorePlanner(client);
    new RestoreExecutor(client, new RestoreExecutor.Options(8, IntegrityCheck.QUICK, false, RestoreProgress.silent()))
        .restore(txid == 0 ? planner.latest() : planner.toTxid(txid), out);
    running.set(false);
    sampler.join();
    System.out.println("peak-heap " + peak.get());
  }

  private static ProcessBuilder java(List<String> jvmArgs, String main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main);
    cmd.addAll(Arrays.asList(args));
    return new ProcessBuilder(cmd);
  }

  // ---- the database ----

  /** A table of short rows (a key, a status line with random hex, a counter) filling {@code bytes}. */
  private void build(Path db, long bytes) throws SQLException, IOException {
    rows = build(db, bytes, "'status=' || (abs(random()) % 5) || ' ' || hex(randomblob(40)) || ' note'", 120);
  }

  /**
   * Fills {@code db} to {@code bytes} with rows {@code t(id, k, v, n)} whose {@code v} is {@code valueSql} (rows of
   * about {@code rowBytes}); returns the number of rows. Also used by {@link VsLitestreamBench}.
   */
  static long build(Path db, long bytes, String valueSql, int rowBytes) throws SQLException, IOException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("PRAGMA page_size=4096");
      s.execute("PRAGMA journal_mode=OFF");
      s.execute("PRAGMA synchronous=OFF");
      s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT, n INTEGER)");
      while (Files.size(db) < bytes) {
        long batch = Math.max(1000, Math.min(100_000, (bytes - Files.size(db)) / rowBytes));
        s.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < " + batch + ") "
            + "INSERT INTO t(k, v, n) SELECT 'key-' || abs(random() % 1000000000), " + valueSql + ", random() FROM r");
      }
      try (ResultSet r = s.executeQuery("SELECT max(id) FROM t")) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  // ---- small things ----

  private static boolean sameBytes(Path a, Path b) throws IOException {
    return Files.mismatch(a, b) == -1;
  }

  static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  private static double bestRatio(List<Double> v, List<Double> base) {
    double best = Double.MAX_VALUE;
    for (int i = 0; i < v.size(); i++) best = Math.min(best, v.get(i) / base.get(i));
    return best;
  }

  static double secs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }

  static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }
}
