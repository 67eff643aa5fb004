package dev.strata.bench.torture;

import dev.strata.bench.torture.BackupApi.Listed;
import dev.strata.bench.torture.ServerTally.Problem;
import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.testing.FakeClock;
import dev.strata.server.Server;
import dev.strata.server.ServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Retention over simulated weeks: a server in this JVM ({@code withSchedule(false)}, a clock the harness moves) and
 * LiteFS-like nodes that write in bursts minutes to hours apart. The harness runs each level when its interval falls
 * due (10 s, 5 min, 1 h, and 24 h for snapshots, at UTC multiples as the server's own loops would) and checks at
 * every simulated midnight:
 * <ul>
 *   <li>the latest state of every database exports to the oracle's;
 *   <li>every restore point {@code /db/info?all=} lists is one the oracle knows, and every point listed once stays
 *       listed while inside the 30-day window; a sample resolves with restore/check, by TXID and by time, and one
 *       is restored and exported;
 *   <li>restore points keep up: with every level run, the newest listed point is the newest acknowledged TXID;
 *   <li>old files do get deleted: after the first 30 days, no storage file whose newest data is older than its
 *       level's retention (plus two days' grace) remains but the newest snapshot; storage stops growing.
 * </ul>
 * Storage is a directory whose files take the simulated time as their modification time ({@link StorageClock}). The
 * simulated time starts on a fixed date and every choice comes from the seed, so a seed replays the phase exactly.
 */
final class RetentionWeeks {
  private static final String CLUSTER = "weeks";
  private static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
  private static final long MINUTE = 60_000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  private static final Duration WINDOW = Duration.ofDays(30);
  /** DESIGN.md's retention per level; a file older than this plus {@link #GRACE} must be gone. */
  private static final Map<Integer, Long> RETENTION = Map.of(1, HOUR, 2, 30 * DAY, 3, 30 * DAY, 9, 30 * DAY);
  private static final long GRACE = 2 * DAY;
  private static final int[] PAGE_SIZES = {4096, 1024, 2048};

  private final ServerTortureOptions opt;
  private final ServerTally tally;
  private final Path dir;
  private final Consumer<String> log;
  private final Random rng;
  private final FakeClock clock = new FakeClock(START);
  private final List<PrimaryNode> nodes = new ArrayList<>();
  private final Map<Integer, Integer> runs = new TreeMap<>();
  /** Levels that may have requests pending: written to, or the level below ran since they last ran. */
  private final Set<Integer> mayHaveWork = new HashSet<>();
  private final Set<String> staleReported = new HashSet<>();
  private final Set<String> stalled = new HashSet<>();
  private final List<String> weekly = new ArrayList<>();
  private Server server;
  private BackupApi api;
  private ServerChecks checks;
  private StorageClock storageClock;
  private ServerConfig config;
  private int bursts;
  private int restarts;

  RetentionWeeks(ServerTortureOptions opt, ServerTally tally, Path dir, Consumer<String> log, long seed) {
    this.opt = opt;
    this.tally = tally;
    this.dir = dir;
    this.log = log;
    this.rng = new Random(seed);
  }

  void run() throws Exception {
    Path storage = Files.createDirectories(dir.resolve("storage"));
    storageClock = new StorageClock(storage, clock);
    config = ServerConfig.defaults(Files.createDirectories(dir.resolve("server"))).withClock(clock)
        .withSchedule(false).withBind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .withReplicaUrl(storage.toString());
    server = Server.start(config);
    api = new BackupApi(server.localUrl(), CLUSTER, Duration.ofSeconds(60));
    checks = new ServerChecks(api, tally, clock, WINDOW, null, Files.createDirectories(dir.resolve("scratch")));
    Path nodeDir = Files.createDirectories(dir.resolve("nodes"));
    for (int i = 0; i < Math.min(3, opt.databases()); i++) {
      String name = "w" + i;
      NodeDatabase db = NodeDatabase.create(nodeDir.resolve(name + ".db"), PAGE_SIZES[i]);
      PrimaryNode n = new PrimaryNode(name, db, new Workload(rng.nextLong(), 320_000 / PAGE_SIZES[i]), api,
          new Lineage(name, tally, clock), tally, clock, rng.nextLong());
      n.commit();
      nodes.add(n);
    }
    long end = START.toEpochMilli() + opt.weeks() * 7 * DAY;
    log.accept(String.format("retention: %d simulated weeks from %s, %d databases, ~%d write bursts a day",
        opt.weeks(), START, nodes.size(), opt.burstsPerDay()));
    try {
      tally.at("simulated weeks");
      long nextBurst = START.toEpochMilli() + gap();
      for (long b = START.toEpochMilli() + 5 * MINUTE; b <= end; b += 5 * MINUTE) {
        while (nextBurst < b) {
          burst(nextBurst);
          nextBurst += gap();
        }
        advanceTo(b);
        List<Integer> due = new ArrayList<>(List.of(1, 2));
        if (b % HOUR == 0) due.add(3);
        if (b % DAY == 0) due.add(9);
        // A level with nothing requested does nothing, so it is skipped unless the level below ran since (every
        // level still runs at midnight). The loops are independent: now and then they run in another order.
        boolean midnight = b % DAY == 0;
        due.removeIf(level -> !mayHaveWork.contains(level) && !midnight);
        if (rng.nextInt(5) == 0) Collections.shuffle(due, rng);
        for (int level : due) runLevel(level);
        if (b % DAY == 0) day(b);
        if (b % (7 * DAY) == 0) week(b);
      }
    } finally {
      for (PrimaryNode n : nodes) n.close();
      server.close();
    }
    tally.notes.put("weeks", String.format("%d simulated weeks from %s: %d write bursts, %d restarts, level runs %s",
        opt.weeks(), START, bursts, restarts, runs));
    for (int i = 0; i < weekly.size(); i++) tally.notes.put("week " + (i + 1) + " storage", weekly.get(i));
  }

  /** Minutes to hours: mostly a few minutes, some tens of minutes, now and then hours; mean a day / bursts. */
  private long gap() {
    double mean = (double) DAY / opt.burstsPerDay();
    int r = rng.nextInt(100);
    double f = r < 55 ? 0.02 + rng.nextDouble() * 0.18 : r < 85 ? 0.2 + rng.nextDouble() * 1.1
        : 1.3 + rng.nextDouble() * 6.7;
    return Math.max(30_000, (long) (mean * f));
  }

  /** Some databases commit a few transactions seconds apart and sync; level 1 runs at the next 10-s boundary. */
  private void burst(long at) throws Exception {
    bursts++;
    advanceTo(at);
    boolean any = false;
    for (PrimaryNode n : nodes) {
      if (any && rng.nextInt(10) < 4) continue;
      any = true;
      int commits = 1 + rng.nextInt(4);
      for (int i = 0; i < commits; i++) {
        clock.advance(Duration.ofMillis(200 + rng.nextInt(2800)));
        n.commit();
        if (rng.nextInt(3) == 0) n.syncUntilInSync(20); // several uploads, so several restore points
      }
      n.syncUntilInSync(20);
    }
    mayHaveWork.add(1);
    advanceTo((clock.millis() / 10_000 + 1) * 10_000);
    runLevel(1);
  }

  /** Moves the simulated clock to {@code t}, never back (a burst may run past the boundary that follows it). */
  private void advanceTo(long t) {
    if (t > clock.millis()) clock.set(Instant.ofEpochMilli(t));
  }

  private void runLevel(int level) throws IOException {
    server.scheduler().runLevel(level);
    mayHaveWork.remove(level);
    if (level != 9) mayHaveWork.add(level == 3 ? 9 : level + 1);
    runs.merge(level, 1, Integer::sum);
    storageClock.stamp();
  }

  /** The checks of a simulated midnight (see the class comment). */
  private void day(long now) throws IOException {
    int day = (int) ((now - START.toEpochMilli()) / DAY);
    tally.at("simulated day " + day + " (" + Timestamps.format(now) + ")");
    for (PrimaryNode n : nodes) n.syncUntilInSync(20);
    checks.positions(nodes);
    for (PrimaryNode n : nodes) checks.exportLatest(n, rng.nextBoolean() ? "http" : "ltx", day % 7 == 0);
    int points = 0;
    for (PrimaryNode n : nodes) {
      List<Listed> listing = checks.listedPoints(n);
      points += listing.size();
      // Every level ran at midnight after the last write: the restore points reach the newest acknowledged TXID.
      long newest = listing.stream().mapToLong(Listed::txid).max().orElse(0);
      if (newest < n.lineage().highestAcked() && stalled.add(n.name())) {
        tally.find(Problem.STALLED, n.name(), "after every level ran, restore points stop at " + Txid.format(newest)
            + " but TXID " + Txid.format(n.lineage().highestAcked()) + " was acknowledged before");
      }
      List<Listed> sample = new ArrayList<>();
      if (!listing.isEmpty()) {
        sample.add(listing.getFirst());
        sample.add(listing.getLast());
        for (int i = 0; i < 2; i++) sample.add(listing.get(rng.nextInt(listing.size())));
      }
      for (Listed l : sample) checks.checkTxid(n, l.txid(), true, "http");
      NavigableMap<Long, Lineage.Entry> known = n.lineage().points();
      List<Long> recent = new ArrayList<>(), older = new ArrayList<>();
      for (var e : known.entrySet()) {
        long age = now - e.getValue().ackMillis();
        if (age < ServerChecks.MUST_KEEP.toMillis()) recent.add(e.getKey());
        else if (age < WINDOW.toMillis()) older.add(e.getKey());
      }
      if (!recent.isEmpty()) checks.checkTxid(n, recent.get(rng.nextInt(recent.size())), false, "http");
      for (int i = 0; i < 2 && !older.isEmpty(); i++) {
        checks.checkTxid(n, older.get(rng.nextInt(older.size())), false, "http");
      }
      for (int i = 0; i < 2; i++) checks.checkTimestamp(n, listing, now - (long) (rng.nextDouble() * (WINDOW
          .toMillis() + 2 * DAY)));
    }
    // An earlier point's content: restore one database and export it; the oldest point inside the window every
    // third day, since that is what retention threatens first. Weekly, a restore by time.
    PrimaryNode n = nodes.get(day % nodes.size());
    List<Listed> listing = api.restorePoints(n.name());
    List<Listed> inside = listing.stream().filter(l -> l.timestamp() >= now - WINDOW.toMillis()).toList();
    if (!inside.isEmpty()) {
      Listed target = day % 3 == 0 ? inside.getFirst() : inside.get(rng.nextInt(inside.size()));
      checks.restoreAndExport(n, target.txid(), "http", true);
      if (day % 7 == 3) {
        checks.restoreAt(n, listing, target.timestamp() + rng.nextInt(5 * 60_000), "http", "weekly, by time");
      }
      n.syncUntilInSync(20); // the node converges to the restored state, as LiteFS does within 10 s
      mayHaveWork.add(1);
    }
    storage(now, day);
    if (day % 7 == 0 || day == opt.weeks() * 7) {
      log.accept(String.format("retention: day %d, %d points listed, %s; findings %d", day, points,
          describeStorage(now), tally.findings.size()));
    }
  }

  /** A restart a week (the server reopens its metadata and storage under the simulated clock). */
  private void week(long now) throws IOException {
    weekly.add(describeStorage(now));
    server.close();
    server = Server.start(config);
    api.base(server.localUrl());
    restarts++;
  }

  /**
   * Files of a level older than its retention plus grace must be gone (the newest snapshot of each database
   * excepted): checked once the first window has passed.
   */
  private void storage(long now, int day) throws IOException {
    if (now - START.toEpochMilli() < WINDOW.toMillis() + GRACE) return;
    for (StoredFile f : storedFiles()) {
      Long keep = RETENTION.get(f.level());
      if (keep == null || f.newestSnapshot() || f.newest() >= now - keep - GRACE) continue;
      String key = f.db() + "/" + f.level();
      if (!staleReported.add(key)) continue;
      long n = storedFiles().stream().filter(g -> g.db().equals(f.db()) && g.level() == f.level()
          && !g.newestSnapshot() && g.newest() < now - keep - GRACE).count();
      tally.find(Problem.RETENTION, f.db(), "level " + f.level() + " keeps " + n + " files whose "
          + "newest data is older than its retention (" + human(keep) + ") plus 2 days, e.g. " + f.name()
          + " (data up to " + Timestamps.format(f.newest()) + "); the cluster's storage then: "
          + describeStorage(now));
    }
  }

  private static String human(long millis) {
    return millis % DAY == 0 ? millis / DAY + " days" : millis / HOUR + " h";
  }

  /**
   * One storage file: database, level, name, size, the time of the newest data in it (its LTX header's
   * timestamp: how old it is whatever clock the storage keeps); newestSnapshot for the newest level-9 file.
   */
  private record StoredFile(String db, int level, String name, long size, long newest, boolean newestSnapshot) {}

  private List<StoredFile> storedFiles() throws IOException {
    List<StoredFile> out = new ArrayList<>();
    Path cluster = dir.resolve("storage").resolve(CLUSTER);
    if (!Files.isDirectory(cluster)) return out;
    try (DirectoryStream<Path> dbs = Files.newDirectoryStream(cluster)) {
      for (Path db : dbs) {
        try (DirectoryStream<Path> levels = Files.newDirectoryStream(db)) {
          for (Path levelDir : levels) {
            int level;
            try {
              level = Integer.parseInt(levelDir.getFileName().toString());
            } catch (NumberFormatException e) {
              continue;
            }
            List<StoredFile> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(levelDir, "*.ltx")) {
              for (Path f : ds) {
                files.add(new StoredFile(db.getFileName().toString(), level, f.getFileName().toString(),
                    Files.size(f), headerTimestamp(f), false));
              }
            }
            files.sort((a, b) -> Long.compareUnsigned(LtxFileName.parse(a.name()).max(),
                LtxFileName.parse(b.name()).max()));
            if (level == 9 && !files.isEmpty()) {
              StoredFile last = files.removeLast();
              files.add(new StoredFile(last.db(), 9, last.name(), last.size(), last.newest(), true));
            }
            out.addAll(files);
          }
        }
      }
    }
    return out;
  }

  private static long headerTimestamp(Path f) throws IOException {
    try (var in = Files.newInputStream(f)) {
      return LtxHeader.decode(in.readNBytes(LtxHeader.SIZE)).timestamp();
    }
  }

  /** "L1 3 files, L2 2016 files 5.1 MB, …; metadata 2.0 MB". */
  private String describeStorage(long now) throws IOException {
    Map<Integer, long[]> byLevel = new TreeMap<>();
    for (StoredFile f : storedFiles()) {
      long[] c = byLevel.computeIfAbsent(f.level(), k -> new long[2]);
      c[0]++;
      c[1] += f.size();
    }
    List<String> parts = new ArrayList<>();
    byLevel.forEach((l, c) -> parts.add(String.format("L%d %d files %.1f MB", l, c[0], c[1] / 1e6)));
    long meta = 0;
    try (var s = Files.list(dir.resolve("server"))) {
      for (Path p : s.toList()) if (Files.isRegularFile(p)) meta += Files.size(p);
    }
    return String.join(", ", parts) + String.format("; metadata %.1f MB", meta / 1e6);
  }
}
