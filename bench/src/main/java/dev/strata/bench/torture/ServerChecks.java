package dev.strata.bench.torture;

import dev.strata.bench.torture.BackupApi.Listed;
import dev.strata.bench.torture.BackupApi.Reply;
import dev.strata.bench.torture.Lineage.Entry;
import dev.strata.bench.torture.ServerTally.Problem;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checks both phases run against a server, through its API only (over HTTP, or {@code strata cluster} as a
 * process when a launcher is given), each judged against the database's {@link Lineage}:
 * <ul>
 *   <li>latest: the position never below the highest acknowledged TXID, and the export (SQLite or LTX) equal to the
 *       oracle's state at that TXID;
 *   <li>restore points by TXID: an upload's last TXID acknowledged within {@link #MUST_KEEP} (DESIGN.md: level 0
 *       is kept until it is in level 1 plus 5 minutes), and every point {@code /db/info?all=} lists, must resolve
 *       to exactly that TXID at its time; any other TXID may be refused (404 ENOTXID) but must not resolve to
 *       something else;
 *   <li>listed points: each is a restore point the oracle knows, with its checksum and time; a point once listed
 *       stays listed while inside retention;
 *   <li>by time: the answer is a restore point at or before that time, not older than a listed one that qualifies;
 *   <li>earlier content: a restore to an earlier point, then an export, equals the oracle's state at that point.
 * </ul>
 */
final class ServerChecks {
  /** Restore points younger than this must be restorable whatever the server's levels. */
  static final Duration MUST_KEEP = Duration.ofMinutes(5);
  /** How far apart the points kept for the whole retention may be: level 2's 5 minutes, a 10-s flush, slack. */
  static final Duration GRANULARITY = Duration.ofMinutes(5).plusSeconds(30);
  private static final Pattern CLI_CHECK = Pattern.compile("txid ([0-9a-f]{16}) at (\\S+)");
  private static final Pattern CLI_RESTORE = Pattern.compile("new txid is ([0-9a-f]{16})");

  private final BackupApi api;
  private final ServerTally tally;
  private final InstantSource clock;
  private final Duration retention;
  private final StrataLauncher strata;
  private final Path scratch;
  private final Map<String, TreeMap<Long, Listed>> everListed = new HashMap<>();
  private int files;

  /**
   * @param clock the server's clock (ages of restore points are judged by it)
   * @param retention how long a listed restore point must stay listed (30 days by default)
   * @param strata runs {@code strata cluster} for the checks done "via cli"; null: HTTP only
   */
  ServerChecks(BackupApi api, ServerTally tally, InstantSource clock, Duration retention, StrataLauncher strata,
      Path scratch) {
    this.api = api;
    this.tally = tally;
    this.clock = clock;
    this.retention = retention;
    this.strata = strata;
    this.scratch = scratch;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Latest

  /** {@code GET /pos} with every node paused in sync: each position is the node's and the oracle's. */
  void positions(List<PrimaryNode> nodes) throws IOException {
    Map<String, Long> before = new HashMap<>();
    for (PrimaryNode n : nodes) before.put(n.name(), n.lineage().highestAcked());
    Map<String, Pos> pos = api.positions();
    for (PrimaryNode n : nodes) {
      Pos p = pos.getOrDefault(n.name(), Pos.ZERO);
      if (!n.lineage().observe(p, before.get(n.name()), "GET /pos after the cycle")) continue;
      if (!p.equals(n.pos())) {
        tally.find(Problem.NODE, n.name(), "GET /pos says " + p + " but the node, paused in sync, is at " + n.pos());
      }
    }
  }

  /**
   * Exports the latest state ({@code via}: "http" for {@code GET /db/snapshot?format=sqlite}, "ltx" for the LTX
   * format, "cli" for {@code strata cluster export}) with the node paused, and compares it with the oracle.
   */
  void exportLatest(PrimaryNode n, String via, boolean quickCheck) throws IOException {
    long before = n.lineage().highestAcked();
    Pos p = api.positions().getOrDefault(n.name(), Pos.ZERO);
    if (!n.lineage().observe(p, before, "GET /pos before an export")) return;
    Entry e = n.lineage().entry(p.txid());
    if (e == null) return; // observe() reported it
    Exported x = export(n.name(), via);
    if (x == null) return;
    if (x.txid() >= 0 && x.txid() != p.txid()) {
      tally.find(Problem.CONTENT, n.name(), "export (" + via + ") is at TXID " + Txid.format(x.txid())
          + " while GET /pos says " + Txid.format(p.txid()));
      return;
    }
    tally.export("latest " + via);
    compare(n.name(), p.txid(), e, x, "export of latest (" + via + ")", quickCheck);
  }

  /** An export: its image's SHA-256, and its TXID when the format says (LTX), else -1. */
  private record Exported(String sha256, long txid, Path file) {}

  private Exported export(String db, String via) throws IOException {
    if (via.equals("cli")) {
      Path out = scratch.resolve(String.format("export-%05d-%s.db", ++files, db));
      CommandRun r = cli(List.of("export", db, "-o", out.toString()), "export-" + db);
      if (r.exit() != 0) {
        tally.find(Problem.SERVER, db, "strata cluster export failed (exit " + r.exit() + "): " + r.lastLine());
        return null;
      }
      return new Exported(NodeDatabase.sha256(Files.readAllBytes(out)), -1, out);
    }
    Reply r = api.snapshot(db, via.equals("ltx") ? "ltx" : "sqlite");
    if (!r.ok()) {
      tally.find(Problem.SERVER, db, "GET /db/snapshot (" + via + ") answered " + r.describe());
      return null;
    }
    if (!via.equals("ltx")) {
      Path out = scratch.resolve(String.format("export-%05d-%s.db", ++files, db));
      Files.write(out, r.body());
      return new Exported(NodeDatabase.sha256(r.body()), -1, out);
    }
    ByteArrayOutputStream image = new ByteArrayOutputStream();
    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(r.body()))) {
      LtxHeader h = d.header();
      byte[] buf = new byte[h.pageSize()];
      int expect = 1;
      for (int p; (p = d.readPage(buf)) != 0; expect++) {
        for (; expect < p; expect++) image.writeBytes(new byte[h.pageSize()]); // the lock page, if ever reached
        image.writeBytes(buf);
      }
      long post = d.finish().postApplyChecksum();
      long mine = Checksum.ofDatabase(new ByteArrayInputStream(image.toByteArray()), h.pageSize());
      if (mine != post) {
        tally.find(Problem.CONTENT, db, "LTX export at " + Txid.format(h.maxTxid()) + ": pages give checksum "
            + Checksum.format(mine) + ", its trailer says " + Checksum.format(post));
      }
      return new Exported(NodeDatabase.sha256(image.toByteArray()), h.maxTxid(), null);
    }
  }

  private void compare(String db, long txid, Entry e, Exported x, String what, boolean quickCheck) throws IOException {
    if (!x.sha256().equals(e.state().sha256())) {
      tally.find(Problem.CONTENT, db, what + " at TXID " + Txid.format(txid) + ": sha256 " + x.sha256()
          + ", expected " + e.state().sha256() + " (" + e.origin() + ")" + (x.file() == null ? "" : "; kept "
          + x.file()));
      return;
    }
    if (quickCheck && x.file() != null) {
      String verdict = quickCheck(x.file());
      if (!verdict.equals("ok")) {
        tally.find(Problem.INTEGRITY, db, what + " at TXID " + Txid.format(txid) + ": quick_check says " + verdict
            + " (" + x.file() + ")");
        return;
      }
    }
    if (x.file() != null) Files.deleteIfExists(x.file());
  }

  private static String quickCheck(Path file) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA quick_check")) {
      return rs.next() ? rs.getString(1) : "no answer";
    } catch (SQLException e) {
      return e.getMessage();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Restore points

  /**
   * {@code GET /db/info?all=}: every listed point is one the oracle knows, with its checksum and time; every point
   * listed before and still inside retention is listed again. Returns the listing.
   */
  List<Listed> listedPoints(PrimaryNode n) throws IOException {
    List<Listed> listing = api.restorePoints(n.name());
    TreeMap<Long, Listed> seen = everListed.computeIfAbsent(n.name(), k -> new TreeMap<>());
    Map<Long, Listed> now = new HashMap<>();
    for (Listed l : listing) {
      now.put(l.txid(), l);
      tally.point("listed points compared");
      Entry e = n.lineage().entry(l.txid());
      if (e == null || !e.point()) {
        tally.find(Problem.POINT, n.name(), "/db/info lists TXID " + Txid.format(l.txid()) + ", which is "
            + (e == null ? "not a TXID the server acknowledged" : "inside an upload, not a restore point"));
        continue;
      }
      if (e.state().checksum() != l.checksum()) {
        tally.find(Problem.POINT, n.name(), "/db/info lists TXID " + Txid.format(l.txid()) + " with checksum "
            + Checksum.format(l.checksum()) + ", expected " + Checksum.format(e.state().checksum()) + " ("
            + e.origin() + ")");
      }
      if (l.timestamp() < e.tsMin() || l.timestamp() > e.tsMax()) {
        tally.find(Problem.POINT, n.name(), "/db/info lists TXID " + Txid.format(l.txid()) + " at "
            + Timestamps.format(l.timestamp()) + ", expected " + window(e) + " (" + e.origin() + ")");
      }
    }
    // A point of level 0 or 1 may go once its level's window (5 min, 1 h) has passed; what must stay for the whole
    // retention is LiteFS Cloud's promise, a point every five minutes: a listed point within one level-2 interval
    // (plus a level-1 flush and slack) of every point that was listed.
    long horizon = clock.millis() - retention.toMillis() + GRANULARITY.toMillis();
    List<Long> times = listing.stream().map(Listed::timestamp).sorted().toList();
    for (Listed old : seen.values()) {
      if (now.containsKey(old.txid()) || old.timestamp() < horizon) continue;
      if (clock.millis() - old.timestamp() >= MUST_KEEP.toMillis() && hasNear(times, old.timestamp())) continue;
      tally.find(Problem.POINT_LOST, n.name(), "restore point " + Txid.format(old.txid()) + " at "
          + Timestamps.format(old.timestamp()) + " was listed, is inside the " + retention.toDays()
          + "-day retention and is no longer listed, nor any point within " + GRANULARITY.toSeconds() + " s of it");
    }
    seen.keySet().removeIf(t -> !now.containsKey(t));
    seen.putAll(now);
    return listing;
  }

  /**
   * Checks a TXID with {@code restore/check} ({@code via} "http" or "cli"). A restore point acknowledged less than
   * five minutes ago must resolve to itself at its time; any other may be refused with 404 ENOTXID, but never
   * resolve to another point. ({@code listed} only words the finding.)
   */
  void checkTxid(PrimaryNode n, long txid, boolean listed, String via) throws IOException {
    Entry e = n.lineage().entry(txid);
    // A listed point older than level 0's five minutes may leave between the listing and this check, when it was
    // only a level-0 point (listedPoints checks that a point within five minutes of it stays listed).
    long age = clock.millis() - (e == null ? 0 : e.ackMillis());
    boolean mustKeep = e != null && e.point() && age < MUST_KEEP.toMillis();
    BackupApi.Point got;
    if (via.equals("cli")) {
      CommandRun r = cli(List.of("restore", n.name(), "--txid", Txid.format(txid), "--check"), "check-" + n.name());
      Matcher m = CLI_CHECK.matcher(r.stdout());
      if (r.exit() != 0 || !m.find()) {
        if (mustKeep) lost(n, txid, e, listed, "strata cluster restore --check: exit " + r.exit() + ": " + r.lastLine());
        else tally.point("by TXID refused (old or inside an upload)");
        return;
      }
      got = new BackupApi.Point(Txid.parse(m.group(1)), Instant.parse(m.group(2)));
    } else {
      Reply r = api.checkTxid(n.name(), txid);
      if (r.status() == 404 && r.code().equals("ENOTXID") && !mustKeep) {
        tally.point("by TXID refused (old or inside an upload)");
        return;
      }
      if (!r.ok()) {
        if (mustKeep) lost(n, txid, e, listed, "GET /db/restore/check answered " + r.describe());
        else tally.find(Problem.PROTOCOL, n.name(), "restore/check of TXID " + Txid.format(txid) + " answered "
            + r.describe() + " (want 200, or 404 ENOTXID)");
        return;
      }
      got = BackupApi.Point.of(r);
    }
    tally.point("by TXID " + via);
    String what = "restore/check of TXID " + Txid.format(txid) + " (" + via + ")";
    if (got.txid() != txid) {
      tally.find(Problem.POINT, n.name(), what + " resolved to TXID " + Txid.format(got.txid()));
      return;
    }
    if (e == null) {
      tally.find(Problem.POINT, n.name(), what + " resolved, but the server never acknowledged that TXID");
      return;
    }
    long ts = got.timestamp() == null ? Long.MIN_VALUE : got.timestamp().toEpochMilli();
    if (ts < e.tsMin() || ts > e.tsMax()) {
      tally.find(Problem.POINT, n.name(), what + " says time " + (got.timestamp() == null ? "none"
          : Timestamps.format(ts)) + ", expected " + window(e) + " (" + e.origin() + ")");
    }
  }

  /** True when a time of {@code sorted} lies within {@link #GRANULARITY} of {@code t}. */
  private static boolean hasNear(List<Long> sorted, long t) {
    int i = Collections.binarySearch(sorted, t - GRANULARITY.toMillis());
    if (i < 0) i = -i - 1;
    return i < sorted.size() && sorted.get(i) <= t + GRANULARITY.toMillis();
  }

  private void lost(PrimaryNode n, long txid, Entry e, boolean listed, String answer) {
    tally.find(Problem.POINT_LOST, n.name(), "restore point " + Txid.format(txid) + " (" + e.origin() + "; "
        + (listed ? "listed by /db/info" : "acknowledged " + (clock.millis() - e.ackMillis()) / 1000 + " s ago")
        + "): " + answer);
  }

  /**
   * Checks a time with {@code restore/check?timestamp=}: the answer must be a restore point stamped at or before
   * {@code at}, at its own time, and no older than the newest listed point at or before {@code at}. 404
   * ENOTIMESTAMP only when no listed point qualifies.
   */
  void checkTimestamp(PrimaryNode n, List<Listed> listing, long at) throws IOException {
    Listed floor = floor(listing, at);
    Reply r = api.checkTimestamp(n.name(), at);
    String what = "restore/check at " + Timestamps.format(at);
    tally.point("by time");
    if (r.status() == 404 && r.code().equals("ENOTIMESTAMP")) {
      Listed still = floor == null ? null : floor(api.restorePoints(n.name()), at); // as below
      if (still != null) {
        tally.find(Problem.POINT_LOST, n.name(), what + ": 404 ENOTIMESTAMP, but /db/info lists "
            + Txid.format(still.txid()) + " at " + Timestamps.format(still.timestamp()));
      }
      return;
    }
    if (!r.ok()) {
      tally.find(Problem.PROTOCOL, n.name(), what + " answered " + r.describe());
      return;
    }
    BackupApi.Point got = BackupApi.Point.of(r);
    Entry e = n.lineage().entry(got.txid());
    long ts = got.timestamp().toEpochMilli();
    if (e == null || !e.point()) {
      tally.find(Problem.POINT, n.name(), what + " resolved to TXID " + Txid.format(got.txid()) + ", "
          + (e == null ? "which the server never acknowledged" : "which is inside an upload"));
    } else if (ts > at || ts < e.tsMin() || ts > e.tsMax()) {
      tally.find(Problem.POINT, n.name(), what + " resolved to TXID " + Txid.format(got.txid()) + " at "
          + Timestamps.format(ts) + "; expected a time at or before " + Timestamps.format(at) + " and " + window(e)
          + " (" + e.origin() + ")");
    } else if (floor != null && got.txid() < floor.txid()) {
      // The listing came first: a point of level 0 older than its five minutes may have left in between (soak,
      // seed 20261209: listed 5 min 25 s after its time, gone at the check). What is still listed after the check
      // was there during it (points only leave; new ones are stamped after the listing's time), so that is the
      // floor the answer must reach. A listed point gone too early is listedPoints' finding.
      Listed still = floor(api.restorePoints(n.name()), at);
      if (still != null && got.txid() < still.txid()) {
        tally.find(Problem.POINT, n.name(), what + " resolved to TXID " + Txid.format(got.txid()) + ", older than "
            + "listed point " + Txid.format(still.txid()) + " at " + Timestamps.format(still.timestamp()));
      } else {
        tally.point("by time, after the newest listed point at or before it left level 0");
      }
    }
  }

  /** The listed point with the highest TXID stamped at or before {@code at}, or null. */
  private static Listed floor(List<Listed> listing, long at) {
    Listed floor = null;
    for (Listed l : listing) if (l.timestamp() <= at && (floor == null || l.txid() > floor.txid())) floor = l;
    return floor;
  }

  private static String window(Entry e) {
    return e.tsMin() == e.tsMax() ? Timestamps.format(e.tsMin())
        : "between " + Timestamps.format(e.tsMin()) + " and " + Timestamps.format(e.tsMax());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Restores

  /**
   * Restores {@code n}'s database on the server to {@code target} ({@code via} "http" or "cli") and records the
   * new TXID in the oracle. Returns it, or -1 after a finding.
   */
  long restore(PrimaryNode n, long target, String via, String why) throws IOException {
    Lineage.PendingRestore pending = n.lineage().restoreStarted(target, "restore to " + Txid.format(target) + " ("
        + why + ", " + via + ")");
    return restore(n, pending, via, "--txid", Txid.format(target), () -> api.restoreTxid(n.name(), target),
        "POST /db/restore to " + Txid.format(target));
  }

  /**
   * Restores by time ({@code via} "http" or "cli"): resolves {@code at} with restore/check first (checked), then
   * restores to that time, which must be the same point.
   */
  long restoreAt(PrimaryNode n, List<Listed> listing, long at, String via, String why) throws IOException {
    checkTimestamp(n, listing, at);
    Reply c = api.checkTimestamp(n.name(), at);
    if (!c.ok()) return -1;
    long target = BackupApi.Point.of(c).txid();
    if (n.lineage().entry(target) == null) return -1; // checkTimestamp reported it
    Lineage.PendingRestore pending = n.lineage().restoreStarted(target, at, "restore to " + Timestamps.format(at)
        + " = " + Txid.format(target) + " (" + why + ", " + via + ")");
    return restore(n, pending, via, "--timestamp", Timestamps.format(at), () -> api.restoreTimestamp(n.name(), at),
        "POST /db/restore?timestamp=" + Timestamps.format(at));
  }

  /** A request to the server that may fail with an {@link IOException}. */
  @FunctionalInterface
  private interface Request {
    Reply send() throws IOException;
  }

  /**
   * Asks for a restore through {@code strata cluster restore FLAG VALUE} ({@code via} "cli") or {@code http};
   * returns the new TXID and tells the lineage, or −1 after recording a finding.
   */
  private long restore(PrimaryNode n, Lineage.PendingRestore pending, String via, String flag, String value,
      Request http, String httpWhat) throws IOException {
    long newTxid;
    if (via.equals("cli")) {
      CommandRun r = cli(List.of("restore", n.name(), flag, value), "restore-" + n.name());
      Matcher m = CLI_RESTORE.matcher(r.stdout());
      if (r.exit() != 0 || !m.find()) {
        tally.find(Problem.SERVER, n.name(), "strata cluster restore " + flag + " " + value + " failed (exit "
            + r.exit() + "): " + r.lastLine());
        return -1;
      }
      newTxid = Txid.parse(m.group(1));
    } else {
      Reply r = http.send();
      if (!r.ok()) {
        tally.find(Problem.SERVER, n.name(), httpWhat + " answered " + r.describe());
        return -1;
      }
      newTxid = BackupApi.Point.of(r).txid();
    }
    n.lineage().restoreAnswered(pending, newTxid);
    tally.point("restores");
    return newTxid;
  }

  /**
   * An earlier point's content: with the node paused, restores the database to {@code target} and exports it; the
   * export must equal the oracle's state at {@code target}. (The node then converges to it, as LiteFS would.)
   */
  void restoreAndExport(PrimaryNode n, long target, String via, boolean quickCheck) throws IOException {
    Entry e = n.lineage().entry(target);
    long newTxid = restore(n, target, via, "to export an earlier point");
    if (newTxid < 0) return;
    long before = n.lineage().highestAcked();
    Pos p = api.positions().getOrDefault(n.name(), Pos.ZERO);
    if (!n.lineage().observe(p, before, "GET /pos after a restore")) return;
    if (p.txid() != newTxid) {
      tally.find(Problem.CONTENT, n.name(), "restore to " + Txid.format(target) + " answered TXID "
          + Txid.format(newTxid) + " but GET /pos then says " + p);
      return;
    }
    Exported x = export(n.name(), via.equals("cli") ? "cli" : "http");
    if (x == null) return;
    tally.export("earlier point " + via);
    compare(n.name(), target, e, x, "export after a restore to " + Txid.format(target) + " (new TXID "
        + Txid.format(newTxid) + ")", quickCheck);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private CommandRun cli(List<String> args, String label) throws IOException {
    if (strata == null) throw new IllegalStateException("no strata launcher for cli checks");
    List<String> full = new ArrayList<>(List.of("cluster", "-e", api.base(), "-c", api.cluster()));
    full.addAll(args);
    return CommandRun.run(strata.command(full), Duration.ofMinutes(2),
        scratch.resolve(String.format("cli-%05d-%s", ++files, label)));
  }
}
