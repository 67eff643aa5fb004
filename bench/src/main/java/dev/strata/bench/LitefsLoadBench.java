package dev.strata.bench;

import dev.strata.bench.torture.StrataLauncher;
import dev.strata.ltx.Checksum;
import dev.strata.replica.testing.LocalPostgres;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A realistic LiteFS load on {@code strata serve} running as child processes ({@code bin/bench-server --litefs}):
 * {@code databases} databases (ten per cluster) each push one small LTX file (one changed 4 KiB page) per second,
 * <em>open loop</em>: each database's uploads are scheduled once a second whatever the answers, and latency runs from
 * the scheduled send time (a slow answer delays the next upload of that database, and that delay counts: no
 * coordinated omission). Then a closed loop as fast as possible gives the saturation rate. Run for the SQLite store
 * (one instance), and PostgreSQL (LocalPostgres) with one and with two instances (each upload to one of them at
 * random). CPU is the server processes', PostgreSQL's and the client's (this process) from /proc. Then, with two
 * instances, one is killed with SIGKILL under the open-loop load: how long until the databases whose job leases it
 * held upload on the other instance and their Litefs-Hwm (level 1) passes what was acknowledged before the kill,
 * and whether any acknowledged upload is lost. The disk's fsync rate, measured in the same run, is the ceiling.
 *
 * <p>Usage: {@code LitefsLoadBench [--databases 1000] [--rate 1] [--seconds 15] [--warmup 60] [--saturation 10]
 * [--workers 64] [--kill-seconds 30] [--configs sqlite,postgres,postgres-2] [--dir DIR]}.
 */
public final class LitefsLoadBench {
  private static final int PAGE = 4096;
  private static final int DBS_PER_CLUSTER = 10;
  private static final double TARGET_P99_MS = 50;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(3)).build();
  /** The uploads' client: lighter than {@link #HTTP}, whose CPU would be taken from the servers measured. */
  private static final KeepAliveHttpClient UPLOADS = new KeepAliveHttpClient(30_000);
  private static final Pattern POS = Pattern.compile("\"TXID\"\\s*:\\s*\"([0-9a-f]{16})\".*?\"PostApplyChecksum\""
      + "\\s*:\\s*\"([0-9a-f]{16})\"", Pattern.DOTALL);

  private int databases = 1000;
  private double rate = 1;
  private int seconds = 15;
  /**
   * Seconds of the open loop before measuring: a server runs for days, but after a 3-s warm-up its C2 compiler
   * still took 13% of the machine's CPU during the measurement (perf), and the p99 measured was that compilation's.
   * Two cold instances on two cores fall behind the load at first; the backlog took 20 to 40 s to drain (the
   * timeline printed per configuration), so a 20-s warm-up measured its tail in most runs.
   */
  private int warmup = 60;
  private int saturation = 10;
  private int workers = 64;
  private int killSeconds = 30;
  private List<String> configs = List.of("sqlite", "postgres", "postgres-2");
  /** Each instance's PostgreSQL connection pool ({@code ?pool=N}); 0 keeps the server's default. */
  private int pool = 0;
  private Path dir = Path.of("bench/target/server-bench");

  public static void main(String[] args) throws Exception {
    new LitefsLoadBench().parse(args).run();
  }

  private LitefsLoadBench parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--litefs" -> { }
        case "--databases" -> databases = Integer.parseInt(args[++i]);
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--saturation" -> saturation = Integer.parseInt(args[++i]);
        case "--workers" -> workers = Integer.parseInt(args[++i]);
        case "--kill-seconds" -> killSeconds = Integer.parseInt(args[++i]);
        case "--configs" -> configs = List.of(args[++i].split(","));
        case "--pool" -> pool = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + a + "; usage: bin/bench-server --litefs "
            + "[--databases 1000] [--rate 1] [--seconds 15] [--warmup 60] [--saturation 10] [--workers 64] "
            + "[--kill-seconds 30] [--configs sqlite,postgres,postgres-2] [--pool N] [--dir DIR]");
      }
    }
    return this;
  }

  /** What one configuration measured. */
  record Row(String config, Lat warm, Lat open, double offered, long openUploads, long openErrors, double openCpu,
      double openPgCpu, double openClientCpu, double satRate, double satCpu, double satPgCpu, long lost, Db[] dbs) {}

  void run() throws Exception {
    Path root = Files.createDirectories(dir.toAbsolutePath());
    Path work = Files.createTempDirectory(root, "litefs-");
    System.out.printf(Locale.ROOT, "LiteFS load: %d databases (%d per cluster), %.1f upload/s each, open loop %d s "
        + "(after %d s warm-up), saturation %d s with %d workers; %d cpus, load average %.1f%n", databases,
        DBS_PER_CLUSTER, rate, seconds, warmup, saturation, workers, Runtime.getRuntime().availableProcessors(),
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    double fsyncBefore = ServerBench.fsyncRate(work, 2, true), fdsBefore = ServerBench.fsyncRate(work, 2, false);
    List<Row> rows = new ArrayList<>();
    String kill = null;
    for (String config : configs) {
      boolean pg = config.startsWith("postgres");
      int instances = config.endsWith("-2") ? 2 : 1;
      try (Fleet fleet = Fleet.start(work.resolve(config), pg, instances, pool)) {
        Row r = measure(config, fleet);
        rows.add(r);
        System.out.printf(Locale.ROOT, "%s: open loop p50 %.1f ms, p99 %.1f ms, %.0f uploads/s (errors %d); "
            + "saturation %.0f uploads/s; lost %d%n", label(config), r.open.pct(50), r.open.pct(99),
            r.openUploads / (double) seconds, r.openErrors, r.satRate, r.lost);
        System.out.printf(Locale.ROOT, "  p99 ms per %d s, warm-up | measured (from %s UTC): %s | %s%n",
            TIMELINE_SECONDS, r.open.startedAt, r.warm.timeline(TIMELINE_SECONDS), r.open.timeline(TIMELINE_SECONDS));
        if (instances == 2 && killSeconds > 0) kill = killOne(fleet, r.dbs);
      }
    }
    double fsync = (fsyncBefore + ServerBench.fsyncRate(work, 2, true)) / 2;
    double fds = (fdsBefore + ServerBench.fsyncRate(work, 2, false)) / 2;
    print(rows, fsync, fds, kill);
    deleteTree(work);
  }

  private static String label(String config) {
    return switch (config) {
      case "sqlite" -> "SQLite, 1 instance";
      case "postgres" -> "PostgreSQL, 1 instance";
      case "postgres-2" -> "PostgreSQL, 2 instances";
      default -> config;
    };
  }

  private Row measure(String config, Fleet fleet) throws Exception {
    Db[] dbs = new Db[databases];
    for (int i = 0; i < databases; i++) dbs[i] = new Db(i);
    closedLoop(fleet, dbs, 0, true); // each database's first upload: a snapshot
    Lat warm = new Lat();
    openLoop(fleet, dbs, warmup, warm, null);
    Cpu c0 = fleet.cpu();
    Lat open = new Lat();
    long[] counts = new long[2];
    // When the measurement began, by the wall clock: jobs run at wall-clock boundaries (level 1 every 10 s, level 2
    // every 5 minutes), and the timeline's windows can be matched with them.
    open.startedAt = java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0);
    openLoop(fleet, dbs, seconds, open, counts);
    Cpu c1 = fleet.cpu();
    long satCount = closedLoop(fleet, dbs, saturation, false);
    Cpu c2 = fleet.cpu();
    long lost = lost(fleet, dbs);
    return new Row(config, warm, open, databases * rate, counts[0], counts[1],
        (c1.server - c0.server) / Math.max(1, counts[0]) * 1000, (c1.pg - c0.pg) / Math.max(1, counts[0]) * 1000,
        (c1.client - c0.client) / Math.max(1, counts[0]) * 1000,
        satCount / (double) saturation, (c2.server - c1.server) / Math.max(1, satCount) * 1000,
        (c2.pg - c1.pg) / Math.max(1, satCount) * 1000, lost, dbs);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Load

  /** One database of one cluster: its position, the page it last wrote, the highest Litefs-Hwm it was sent. */
  static final class Db {
    final String cluster;
    final String name;
    final Random rnd;
    long txid;
    long checksum = Checksum.EMPTY_DATABASE;
    byte[] page = new byte[PAGE];
    volatile long hwm;
    /** When a Litefs-Hwm first reached {@link #hwmTarget} (nanoTime), for the kill phase. */
    volatile long hwmTarget = Long.MAX_VALUE;
    volatile long hwmReachedAt;
    volatile long firstOkAfter;
    volatile long failedSince;

    Db(int i) {
      cluster = "c" + i / DBS_PER_CLUSTER;
      name = "db" + i % DBS_PER_CLUSTER;
      rnd = new Random(i);
    }
  }

  /**
   * One upload of {@code db}'s next transaction (a snapshot for the first), retried on another instance after a
   * failure (as LiteFS behind a load balancer would): connection refused or reset, or 5xx. An upload whose answer
   * was lost but which the server kept is recognised by the 409 naming the position it reached. Returns the
   * retries it took; -1 when the server refused it otherwise.
   */
  int upload(Fleet fleet, Db db, long killedAt) throws InterruptedException {
    byte[] next = new byte[PAGE];
    db.rnd.nextBytes(next);
    long after = db.txid == 0 ? Checksum.roll(Checksum.EMPTY_DATABASE, 0, Checksum.ofPage(1, next))
        : Checksum.roll(db.checksum, Checksum.ofPage(1, db.page), Checksum.ofPage(1, next));
    byte[] file;
    try {
      file = ServerBench.ltx(db.txid + 1, db.txid == 0 ? 0 : db.checksum, next, after);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    int instance = fleet.pick(-1);
    for (int attempt = 0; ; attempt++) {
      int status;
      String body = "", hwm = null;
      try {
        KeepAliveHttpClient.Answer r = UPLOADS.post(fleet.port(instance), "/db/tx?db=" + db.name,
            "cluster " + db.cluster, file);
        status = r.status();
        body = r.body();
        hwm = r.hwm();
      } catch (IOException e) {
        status = 0;
      }
      boolean ok = status == 200;
      if (status == 409) {
        Matcher m = POS.matcher(body);
        ok = m.find() && Long.parseUnsignedLong(m.group(1), 16) == db.txid + 1
            && Long.parseUnsignedLong(m.group(2), 16) == after;
        if (!ok) return -1;
      }
      if (ok) {
        db.txid++;
        db.checksum = after;
        db.page = next;
        if (hwm != null) {
          long h = Long.parseUnsignedLong(hwm, 16);
          if (h > db.hwm) db.hwm = h;
          if (h >= db.hwmTarget && db.hwmReachedAt == 0) db.hwmReachedAt = System.nanoTime();
        }
        if (killedAt > 0 && db.firstOkAfter == 0 && System.nanoTime() > killedAt) db.firstOkAfter = System.nanoTime();
        return attempt;
      }
      if (status != 0 && status < 500) return -1;
      if (killedAt > 0 && db.failedSince == 0) db.failedSince = System.nanoTime();
      if (status == 0) fleet.markDown(instance);
      if (attempt > 0) Thread.sleep(Math.min(1000, 20L << Math.min(attempt, 6)));
      instance = fleet.pick(instance);
    }
  }

  /**
   * Every database uploads once a second (at {@link #rate}), each at its own phase; latencies from the scheduled
   * time go to {@code lat} (null: not recorded). {@code counts}: uploads acknowledged, uploads refused.
   */
  void openLoop(Fleet fleet, Db[] dbs, int secs, Lat lat, long[] counts) throws InterruptedException {
    long periodNanos = (long) (1e9 / rate);
    long start = System.nanoTime() + 50_000_000, end = start + secs * 1_000_000_000L;
    AtomicLong ok = new AtomicLong(), refused = new AtomicLong(), retried = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < dbs.length; i++) {
      Db db = dbs[i];
      long phase = (long) ((double) i / dbs.length * periodNanos);
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          for (long at = start + phase; at < end; at += periodNanos) {
            long wait = at - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            int r = upload(fleet, db, 0);
            long done = System.nanoTime();
            if (r < 0) refused.incrementAndGet();
            else {
              ok.incrementAndGet();
              retried.addAndGet(r);
            }
            if (lat != null) lat.add(at, done - at);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
    for (Thread t : threads) t.join();
    if (counts != null) {
      counts[0] = ok.get();
      counts[1] = refused.get();
      if (counts.length > 2) counts[2] = retried.get();
    }
  }

  /**
   * {@link #workers} workers upload back to back as fast as the server answers, each over its share of the
   * databases in turn, for {@code secs} (0: one upload per database). Returns the uploads acknowledged.
   */
  long closedLoop(Fleet fleet, Db[] dbs, int secs, boolean once) throws InterruptedException {
    long end = System.nanoTime() + secs * 1_000_000_000L;
    AtomicLong ok = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    int n = Math.min(workers, dbs.length);
    for (int w = 0; w < n; w++) {
      int first = w;
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          for (int i = first; ; i += n) {
            if (i >= dbs.length) {
              if (once) return;
              i = first;
            }
            if (!once && System.nanoTime() >= end) return;
            if (upload(fleet, dbs[i], 0) >= 0) ok.incrementAndGet();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
    for (Thread t : threads) t.join();
    return ok.get();
  }

  /** Databases whose server position is below what was acknowledged (asked of every live instance). */
  long lost(Fleet fleet, Db[] dbs) throws IOException, InterruptedException {
    long lost = 0;
    for (int i = 0; i < fleet.size(); i++) {
      if (!fleet.alive(i)) continue;
      Map<String, Long[]> pos = new HashMap<>();
      Set<String> clusters = new HashSet<>();
      for (Db d : dbs) clusters.add(d.cluster);
      for (String c : clusters) {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(fleet.url(i) + "/pos"))
            .header("Authorization", "cluster " + c).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"(db\\d+)\"\\s*:\\s*\\{\\s*\"TXID\"\\s*:\\s*\"([0-9a-f]{16})\"\\s*,\\s*"
            + "\"PostApplyChecksum\"\\s*:\\s*\"([0-9a-f]{16})\"").matcher(r.body());
        while (m.find()) {
          pos.put(c + "/" + m.group(1), new Long[] {Long.parseUnsignedLong(m.group(2), 16),
              Long.parseUnsignedLong(m.group(3), 16)});
        }
      }
      for (Db d : dbs) {
        Long[] p = pos.get(d.cluster + "/" + d.name);
        if (p == null || p[0] != d.txid || p[1] != d.checksum) lost++;
      }
    }
    return lost;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // kill -9 of one of two instances

  /**
   * Under the open-loop load, kills instance 1 with SIGKILL a third of the way in. Its databases: those whose job
   * leases it held at that moment. Measures how long until each uploads again (on instance 0) and until its
   * Litefs-Hwm reaches the TXID acknowledged before the kill (its flush ran on the other instance), and the
   * acknowledged uploads lost.
   */
  private String killOne(Fleet fleet, Db[] dbs) throws Exception {
    long[] counts = new long[3];
    AtomicLong killedAt = new AtomicLong();
    Set<String> held = new HashSet<>();
    Thread killer = Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(killSeconds * 1000L / 3);
        held.addAll(fleet.leasesOf(1));
        for (Db d : dbs) d.hwmTarget = d.txid;
        killedAt.set(System.nanoTime());
        fleet.kill9(1);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    // Until the kill, the uploads see a kill time far in the future.
    Lat lat = new Lat();
    long phaseStart = System.nanoTime();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread monitor = Thread.ofVirtual().start(() -> {
      try {
        while (true) {
          Thread.sleep(200);
          long now = System.nanoTime();
          if (now < phaseStart + killSeconds * 1_000_000_000L || killedAt.get() == 0) continue;
          // Every database, not only the killed instance's: a level-1 flush may come up to nearly two intervals
          // after an upload (the jobs of a tick are spread over it in a shuffled order).
          boolean all = true;
          for (Db d : dbs) if (d.hwmReachedAt == 0) all = false;
          if (all || now > killedAt.get() + 60_000_000_000L) break;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stop.set(true);
    });
    openLoopMarked(fleet, dbs, lat, counts, killedAt, System.nanoTime() + 3_600_000_000_000L, stop);
    monitor.join();
    killer.join();
    long lost = lost(fleet, dbs);
    List<Double> up = new ArrayList<>(), jobs = new ArrayList<>(), allJobs = new ArrayList<>();
    int notReached = 0;
    for (Db d : dbs) {
      double j = d.hwmReachedAt == 0 ? Double.NaN : (d.hwmReachedAt - killedAt.get()) / 1e9;
      if (d.hwmReachedAt == 0) notReached++;
      else allJobs.add(j);
      if (!held.contains(d.cluster + "/" + d.name)) continue;
      up.add(d.firstOkAfter == 0 ? Double.NaN : (d.firstOkAfter - killedAt.get()) / 1e9);
      if (d.hwmReachedAt != 0) jobs.add(j);
    }
    double ran = (System.nanoTime() - phaseStart) / 1e9;
    return String.format(Locale.ROOT, "kill -9 of instance 1 of 2 (PostgreSQL) %d s into a %.0f-s open loop: it held "
        + "the job leases of %d databases; their uploads succeeded on instance 0 after %s s (max; p50 %s s); their "
        + "Litefs-Hwm reached the TXID acknowledged before the kill after %s s (max; p50 %s s; %d of %d reached it); "
        + "all %d databases: %s s (max; %d not reached); uploads retried %d, refused %d; open-loop p99 %.1f ms "
        + "across the kill; uploads lost: %d", killSeconds / 3, ran, held.size(), max(up), p50(up),
        max(jobs), p50(jobs), jobs.size(), held.size(), dbs.length, max(allJobs), notReached, counts[2], counts[1],
        lat.pct(99), lost);
  }

  /** The open loop of the kill phase: until {@code stop[0]}. */
  private void openLoopMarked(Fleet fleet, Db[] dbs, Lat lat, long[] counts, AtomicLong killedAt, long future,
      java.util.concurrent.atomic.AtomicBoolean stop) throws InterruptedException {
    long periodNanos = (long) (1e9 / rate);
    long start = System.nanoTime() + 50_000_000;
    AtomicLong ok = new AtomicLong(), refused = new AtomicLong(), retried = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < dbs.length; i++) {
      Db db = dbs[i];
      long phase = (long) ((double) i / dbs.length * periodNanos);
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          for (long at = start + phase; !stop.get(); at += periodNanos) {
            long wait = at - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            long k = killedAt.get();
            int r = upload(fleet, db, k == 0 ? future : k);
            if (r < 0) refused.incrementAndGet();
            else {
              ok.incrementAndGet();
              retried.addAndGet(r);
            }
            lat.add(System.nanoTime() - at);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
    for (Thread t : threads) t.join();
    counts[0] = ok.get();
    counts[1] = refused.get();
    counts[2] = retried.get();
  }

  private static String max(List<Double> xs) {
    return xs.isEmpty() ? "-" : String.format(Locale.ROOT, "%.1f", xs.stream().mapToDouble(d -> d).max()
        .orElse(Double.NaN));
  }

  private static String p50(List<Double> xs) {
    if (xs.isEmpty()) return "-";
    double[] a = xs.stream().mapToDouble(d -> d).sorted().toArray();
    return String.format(Locale.ROOT, "%.1f", a[(a.length - 1) / 2]);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The table

  private void print(List<Row> rows, double fsync, double fds, String kill) {
    System.out.println();
    System.out.printf(Locale.ROOT, "disk ceiling (this run, mean of before and after): %.0f write+fsync/s, %.0f "
        + "write+fdatasync/s%n", fsync, fds);
    String head = "%-24s %7s %7s %8s %7s %9s %7s %5s %9s %9s %9s %9s %9s %9s%n";
    System.out.printf(Locale.ROOT, head, "", "open", "loop", "", "", "", "", "", "CPU-s per", "1000 (open)", "",
        "closed", "loop", "CPU-s/1000");
    System.out.printf(Locale.ROOT, head, "config", "p50 ms", "p99 ms", "p99/50ms", "max ms", "uploads/s", "refused",
        "lost", "server", "postgres", "client", "uploads/s", "/ fsync/s", "(closed)");
    Row base = rows.isEmpty() ? null : rows.getFirst();
    for (Row r : rows) {
      System.out.printf(Locale.ROOT, "%-24s %7.1f %7.1f %8.2f %7.1f %9.0f %7d %5d %9.2f %9s %9.2f %9.0f %9.2f %9.2f%n",
          label(r.config), r.open.pct(50), r.open.pct(99), r.open.pct(99) / TARGET_P99_MS, r.open.pct(100),
          r.openUploads / (double) seconds, r.openErrors, r.lost, r.openCpu,
          r.openPgCpu > 0 ? String.format(Locale.ROOT, "%.2f", r.openPgCpu) : "-", r.openClientCpu, r.satRate,
          r.satRate / fsync,
          r.satCpu + r.satPgCpu);
    }
    if (base != null && rows.size() > 1) {
      for (Row r : rows.subList(1, rows.size())) {
        System.out.printf(Locale.ROOT, "ratio %s ÷ %s: p99 %.2f, saturation %.2f, CPU per upload (open) %.2f%n",
            label(r.config), label(base.config), r.open.pct(99) / base.open.pct(99), r.satRate / base.satRate,
            (r.openCpu + r.openPgCpu) / (base.openCpu + base.openPgCpu));
      }
    }
    System.out.println("offered load " + String.format(Locale.ROOT, "%.0f", databases * rate) + " uploads/s; target "
        + "p99 ≤ " + (int) TARGET_P99_MS + " ms (p99/50ms ≤ 1); CPU-s per 1,000 acknowledged uploads: the server "
        + "processes', PostgreSQL's (postmaster and backends), and the bench client's (this process, sharing the "
        + "cores); closed loop: server and PostgreSQL");
    if (kill != null) System.out.println(kill);
  }

  /** Latencies in nanoseconds. */
  static final class Lat {
    private long[] xs = new long[1 << 16];
    private long[] ats = new long[1 << 16]; // when each upload was scheduled (nanoTime), for the timeline
    java.time.LocalTime startedAt; // by the wall clock (UTC), when known
    private int n;

    synchronized void add(long nanos) {
      add(0, nanos);
    }

    synchronized void add(long at, long nanos) {
      if (n == xs.length) {
        xs = Arrays.copyOf(xs, n * 2);
        ats = Arrays.copyOf(ats, n * 2);
      }
      ats[n] = at;
      xs[n++] = nanos;
    }

    synchronized double pct(double p) {
      return pct(Arrays.copyOf(xs, n), p);
    }

    private static double pct(long[] s, double p) {
      if (s.length == 0) return 0;
      Arrays.sort(s);
      int i = (int) Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1);
      return s[Math.max(0, i)] / 1e6;
    }

    /**
     * The p99 of each {@code seconds}-long window by scheduled time, from the first upload on: whether a slow run
     * was slow from its start or turned slow, and whether it recovers.
     */
    synchronized String timeline(int seconds) {
      if (n == 0) return "-";
      long first = Long.MAX_VALUE, window = seconds * 1_000_000_000L;
      for (int i = 0; i < n; i++) first = Math.min(first, ats[i]);
      int windows = 0;
      for (int i = 0; i < n; i++) windows = Math.max(windows, (int) ((ats[i] - first) / window) + 1);
      List<List<Long>> byWindow = new ArrayList<>();
      for (int w = 0; w < windows; w++) byWindow.add(new ArrayList<>());
      for (int i = 0; i < n; i++) byWindow.get((int) ((ats[i] - first) / window)).add(xs[i]);
      StringBuilder out = new StringBuilder();
      for (List<Long> w : byWindow) {
        if (!out.isEmpty()) out.append(' ');
        out.append(String.format(Locale.ROOT, "%.0f", pct(w.stream().mapToLong(Long::longValue).toArray(), 99)));
      }
      return out.toString();
    }
  }

  /** The width of the timeline's windows. */
  private static final int TIMELINE_SECONDS = 5;

  // ---------------------------------------------------------------------------------------------------------------
  // The servers

  record Cpu(double server, double pg, double client) {}

  /** The {@code strata serve} processes of one configuration, and PostgreSQL when it is used. */
  static final class Fleet implements AutoCloseable {
    private final Path dir;
    private final LocalPostgres pg;
    private final String metadataUrl;
    private final List<Process> servers = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();
    private final boolean[] dead;
    private final long[] downUntil;

    private Fleet(Path dir, LocalPostgres pg, String metadataUrl, int instances) {
      this.dir = dir;
      this.pg = pg;
      this.metadataUrl = metadataUrl;
      this.dead = new boolean[instances];
      this.downUntil = new long[instances];
    }

    static Fleet start(Path dir, boolean postgres, int instances, int pool) throws Exception {
      Files.createDirectories(dir);
      LocalPostgres pg = postgres ? LocalPostgres.start() : null;
      String url = pg == null ? null : pg.createDatabase("bench") + (pool > 0 ? "?pool=" + pool : "");
      Fleet f = new Fleet(dir, pg, url, instances);
      try {
        for (int i = 0; i < instances; i++) f.launch(i);
        for (int i = 0; i < instances; i++) f.awaitReady(i);
      } catch (Exception e) {
        f.close();
        throw e;
      }
      return f;
    }

    private void launch(int i) throws IOException {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
          "java").toString());
      List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseG1GC",
          "-Xmx1g"));
      // Extra JVM options for the servers, for experiments (GC logs, other collectors): split on spaces.
      String extra = System.getenv("STRATA_BENCH_SERVER_OPTS");
      if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().replace("{i}", "" + i).split("\\s+")));
      cmd.addAll(List.of("-cp", StrataLauncher.productionOnly(StrataLauncher.classpath()), "dev.strata.cli.Main",
          "serve", "--data", dir.resolve("data-" + i).toString(), "--bind", "127.0.0.1:" + port, "--replica",
          dir.resolve("storage").toString()));
      if (metadataUrl != null) cmd.addAll(List.of("--metadata", metadataUrl));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server-" + i + ".log").toFile())).start();
      servers.add(p);
      ports.add(port);
    }

    private void awaitReady(int i) throws Exception {
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (true) {
        if (!servers.get(i).isAlive()) {
          throw new IllegalStateException("strata serve exited at start; see " + dir.resolve("server-" + i + ".log"));
        }
        try {
          HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url(i) + "/pos"))
              .header("Authorization", "cluster warmup").timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) return;
        } catch (IOException e) {
          // not listening yet
        }
        if (System.nanoTime() > deadline) throw new IllegalStateException("strata serve did not start in 90 s");
        Thread.sleep(100);
      }
    }

    int size() {
      return servers.size();
    }

    boolean alive(int i) {
      return !dead[i];
    }

    String url(int i) {
      return "http://127.0.0.1:" + port(i);
    }

    int port(int i) {
      return ports.get(i);
    }

    /**
     * An instance at random, other than {@code not}, and not one that failed to answer within the last 5 s (as a
     * load balancer's health check would take it out), when another one is left.
     */
    int pick(int not) {
      int n = servers.size();
      if (n == 1) return 0;
      int i = ThreadLocalRandom.current().nextInt(n);
      for (int k = 0; k < n; k++) {
        int j = (i + k) % n;
        if (j != not && System.nanoTime() >= downUntil[j]) return j;
      }
      return not >= 0 ? (not + 1) % n : i;
    }

    /** Instance i did not answer: avoided for 5 s. */
    void markDown(int i) {
      downUntil[i] = System.nanoTime() + 5_000_000_000L;
    }

    void kill9(int i) throws InterruptedException {
      servers.get(i).destroyForcibly();
      servers.get(i).waitFor();
      dead[i] = true;
    }

    /** "cluster/name" of the databases whose job leases instance i holds now. */
    Set<String> leasesOf(int i) throws IOException {
      Set<String> out = new HashSet<>();
      String rows = pg.psql("bench", "SELECT cluster || '/' || name || '|' || owner FROM leases WHERE expires_at > "
          + System.currentTimeMillis());
      String pid = "/" + servers.get(i).pid() + "/";
      for (String line : rows.split("\n")) {
        int bar = line.indexOf('|');
        if (bar > 0 && line.substring(bar).contains(pid)) out.add(line.substring(0, bar).strip());
      }
      return out;
    }

    /**
     * CPU seconds so far: the server processes', PostgreSQL's (postmaster, reaped and live backends), and this
     * process's (the load's client).
     */
    Cpu cpu() throws IOException {
      double server = 0;
      for (Process p : servers) server += procCpu(p.pid(), false);
      double pgCpu = 0;
      if (pg != null) {
        long pm = Long.parseLong(Files.readAllLines(pg.dataDirectory().resolve("postmaster.pid")).getFirst().strip());
        pgCpu += procCpu(pm, true);
        for (ProcessHandle h : ProcessHandle.of(pm).map(ProcessHandle::descendants).orElseGet(java.util.stream.Stream::empty)
            .toList()) {
          pgCpu += procCpu(h.pid(), false);
        }
      }
      return new Cpu(server, pgCpu, procCpu(ProcessHandle.current().pid(), false));
    }

    /** utime + stime (with {@code children}: + cutime + cstime) of a process, in seconds; 0 once it is gone. */
    static double procCpu(long pid, boolean children) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // After "pid (comm) ": state is f[0]; utime is field 14 overall, i.e. f[11]; stime f[12]; cutime f[13]...
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        if (children) ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return ticks / 100.0; // USER_HZ is 100 on Linux
      } catch (IOException | RuntimeException e) {
        return 0;
      }
    }

    @Override
    public void close() throws Exception {
      for (Process p : servers) {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
      }
      if (pg != null) pg.close();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
