package dev.strata.bench.torture;

import dev.strata.bench.torture.NodeDatabase.State;
import dev.strata.bench.torture.NodeDatabase.Txn;
import dev.strata.bench.torture.ServerTally.Problem;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A LiteFS primary for one database, running the backup stream of spec §2.7: it commits to its own SQLite file, and
 * syncs by asking {@code GET /pos} whenever it does not know the server's position (and every 10 s), sending a
 * snapshot on first contact, then batches of up to 256 single-TXID files merged with the LTX compactor, and
 * fetching {@code GET /db/snapshot} whenever the server is ahead, differs, or answers 409 EPOSMISMATCH (the server is
 * the data authority: local TXIDs it does not have are dropped). Every answer goes to the database's
 * {@link Lineage}. Runs on its own thread in the process profile, or step by step in the simulated weeks.
 */
final class PrimaryNode implements AutoCloseable {
  static final int MAX_FILES = 256;
  private static final long FULL_SYNC_MILLIS = 10_000;

  private final String name;
  private final NodeDatabase db;
  private final Workload workload;
  private final BackupApi api;
  private final Lineage lineage;
  private final ServerTally tally;
  private final InstantSource clock;
  private final Random rng;
  /** Local TXIDs the server has not acknowledged, with their LTX files. */
  private final TreeMap<Long, Txn> unsent = new TreeMap<>();
  /** The server's position as last learned; null: ask. */
  private Pos assumed;
  private long posFetchedAt;
  private long hwm;
  private byte[] lastAcked;
  /** The local position, for other threads (the database itself is the node thread's). */
  private volatile Pos localPos = Pos.ZERO;
  private volatile boolean uploading;
  private volatile String lastError = "none";

  private final Object control = new Object();
  private boolean paused;
  private boolean quiet;
  private volatile boolean closed;
  private Thread thread;

  PrimaryNode(String name, NodeDatabase db, Workload workload, BackupApi api, Lineage lineage, ServerTally tally,
      InstantSource clock, long seed) {
    this.name = name;
    this.db = db;
    this.workload = workload;
    this.api = api;
    this.lineage = lineage;
    this.tally = tally;
    this.clock = clock;
    this.rng = new Random(seed);
  }

  String name() {
    return name;
  }

  Lineage lineage() {
    return lineage;
  }

  /** The node's local position. */
  Pos pos() {
    return localPos;
  }

  /** The highest Litefs-Hwm the server sent. */
  long hwm() {
    return hwm;
  }

  /** True while a {@code POST /db/tx} is on the wire. */
  boolean uploading() {
    return uploading;
  }

  String lastError() {
    return lastError;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The application

  /** One local transaction (the workload's statements, then commit); returns its TXID. */
  long commit() throws IOException {
    try {
      workload.run(db.connection(), db.commit());
    } catch (SQLException e) {
      db.rollback();
      throw new IOException(name + ": workload: " + e.getMessage(), e);
    }
    Txn t = db.commit(clock.millis());
    unsent.put(t.state().txid(), t);
    localPos = db.pos();
    return t.state().txid();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The backup stream

  /** One pass of the stream for this database; true when the server was already at the local position. */
  boolean sync() throws IOException {
    long now = System.currentTimeMillis();
    if (assumed == null || now - posFetchedAt > FULL_SYNC_MILLIS) {
      long before = lineage.highestAcked();
      Pos p = api.positions().getOrDefault(name, Pos.ZERO);
      posFetchedAt = now;
      lineage.observe(p, before, "GET /pos");
      assumed = p;
    }
    Pos local = db.pos(), server = assumed;
    if (local.isZero()) return true;
    if (server.isZero()) {
      // First contact: the whole database as a snapshot stamped now; its TXIDs are the unsent ones, or only the
      // current one when everything was sent before (a server that lost the database).
      long ts = clock.millis();
      List<State> states = new ArrayList<>(unsent.values().stream().map(Txn::state).toList());
      if (states.isEmpty() || states.getFirst().txid() != 1) states = new ArrayList<>(List.of(db.state()));
      State last = states.removeLast();
      states.add(new State(last.txid(), last.sha256(), last.checksum(), last.commit(), ts));
      upload(db.snapshot(ts), states, server, "snapshot");
      return false;
    }
    if (server.txid() > local.txid() || server.txid() == local.txid() && !server.equals(local)) {
      converge(server.txid() > local.txid() ? "server ahead" : "server differs at the same TXID");
      return false;
    }
    if (server.equals(local)) return true;
    if (!unsent.containsKey(server.txid() + 1)) {
      converge("local TXID " + Txid.format(server.txid() + 1) + " gone");
      return false;
    }
    List<Txn> batch = new ArrayList<>();
    for (Txn t : unsent.tailMap(server.txid(), false).values()) {
      if (batch.size() == MAX_FILES) break;
      batch.add(t);
    }
    List<InputStream> inputs = new ArrayList<>();
    for (Txn t : batch) inputs.add(new ByteArrayInputStream(t.ltx()));
    ByteArrayOutputStream merged = new ByteArrayOutputStream();
    LtxCompactor.lz4().compact(inputs, merged);
    upload(merged.toByteArray(), batch.stream().map(Txn::state).toList(), server, "upload");
    return false;
  }

  private void upload(byte[] ltx, List<State> states, Pos from, String what) throws IOException {
    String origin = what + " " + Txid.format(states.getFirst().txid()) + "-" + Txid.format(states.getLast().txid())
        + " at " + Timestamps.format(clock.millis());
    long before = lineage.highestAcked();
    BackupApi.Reply r;
    uploading = true;
    try {
      r = api.writeTx(name, ltx);
    } catch (IOException e) {
      lineage.unanswered(from, states, origin);
      assumed = null;
      tally.node("uploads unanswered");
      throw e;
    } finally {
      uploading = false;
    }
    if (r.ok()) {
      State last = states.getLast();
      checkHwm(r.hwm(), last.txid(), origin);
      lineage.acknowledged(states, origin);
      assumed = last.pos();
      unsent.headMap(last.txid(), true).clear();
      lastAcked = ltx;
      tally.node(what.equals("snapshot") ? "snapshots sent" : "uploads");
    } else if (r.status() == 409 && r.code().equals("EPOSMISMATCH")) {
      tally.node("409 EPOSMISMATCH");
      Pos p = r.pos();
      lineage.observe(p, before, "409 EPOSMISMATCH to " + origin);
      assumed = p;
      converge("409 EPOSMISMATCH");
    } else if (r.status() >= 500) {
      // LiteFS logs it and retries; whether the server kept it shows in the next position it reports.
      lineage.unanswered(from, states, origin);
      assumed = null;
      tally.node("uploads answered " + r.status());
      throw new IOException(origin + ": " + r.describe());
    } else {
      assumed = null;
      tally.find(Problem.PROTOCOL, name, origin + " from " + from + " answered " + r.describe()
          + " (a well-formed upload: want 200 or 409 EPOSMISMATCH)");
      throw new IOException(origin + ": " + r.describe());
    }
  }

  /** Litefs-Hwm: always sent, never falls, never above the position the upload reached. */
  private void checkHwm(String header, long reached, String origin) {
    long h;
    try {
      h = Txid.parse(header);
    } catch (RuntimeException e) {
      tally.find(Problem.PROTOCOL, name, origin + ": 200 with Litefs-Hwm " + (header == null ? "missing" : "\""
          + header + "\"") + " (LiteFS fails on it: cannot parse high-water mark)");
      return;
    }
    if (h < hwm) {
      tally.find(Problem.PROTOCOL, name, origin + ": Litefs-Hwm fell from " + Txid.format(hwm) + " to "
          + Txid.format(h));
    }
    if (h > reached) {
      tally.find(Problem.PROTOCOL, name, origin + ": Litefs-Hwm " + Txid.format(h) + " is above the position "
          + Txid.format(reached) + " the upload reached");
    }
    hwm = Math.max(hwm, h);
  }

  /** LiteFS's restoreDBFromBackup: the server's snapshot replaces the local database. */
  private void converge(String reason) throws IOException {
    long before = lineage.highestAcked();
    BackupApi.Reply r = api.snapshot(name, "ltx");
    if (!r.ok()) {
      assumed = null;
      throw new IOException("GET /db/snapshot (" + reason + "): " + r.describe());
    }
    Map<Integer, byte[]> pages = new TreeMap<>();
    LtxHeader h;
    LtxTrailer trailer;
    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(r.body()))) {
      h = d.header();
      byte[] buf = new byte[h.pageSize()];
      for (int p; (p = d.readPage(buf)) != 0; ) pages.put(p, buf.clone());
      trailer = d.finish();
    }
    if (h.pageSize() != db.pageSize()) {
      tally.find(Problem.CONTENT, name, "GET /db/snapshot: page size " + h.pageSize() + ", the database's is "
          + db.pageSize());
      throw new IOException("snapshot page size " + h.pageSize());
    }
    State s = db.replace(pages, h.commit(), h.maxTxid(), h.timestamp());
    if (s.checksum() != trailer.postApplyChecksum()) {
      tally.find(Problem.CONTENT, name, "GET /db/snapshot at " + Txid.format(h.maxTxid()) + ": its pages give "
          + "checksum " + Checksum.format(s.checksum()) + ", its trailer says "
          + Checksum.format(trailer.postApplyChecksum()));
    }
    lineage.observeSnapshot(s, before, "GET /db/snapshot (" + reason + ")");
    unsent.clear();
    assumed = s.pos();
    localPos = db.pos();
    tally.node("snapshots fetched");
  }

  /** Syncs until the server holds exactly the local position; false (and a finding) after {@code passes}. */
  boolean syncUntilInSync(int passes) {
    assumed = null;
    for (int i = 0; i < passes; i++) {
      try {
        if (sync()) return true;
      } catch (IOException e) {
        lastError = e.getMessage();
      }
    }
    tally.find(Problem.NODE, name, "not in sync after " + passes + " passes; last error: " + lastError);
    return false;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stale uploads (the stale-position fault), built while the node is paused in sync with the server

  /** The kinds of stale upload {@link #staleUpload} builds. */
  static final List<String> STALE_KINDS = List.of("replayed", "snapshot-over", "gap", "wrong-pre-apply", "behind");

  /**
   * An upload LiteFS could send from a wrong idea of the server's position {@code server} (the node is in sync
   * with it): its last upload again (as after a lost answer), a snapshot over the existing database, a file that
   * leaves a TXID gap, one with the right TXID but another state's pre-apply checksum, one a TXID behind.
   */
  byte[] staleUpload(String kind, Pos server) throws IOException {
    long now = clock.millis();
    long other = lineage.points().values().stream().map(e -> e.state().checksum())
        .filter(c -> c != server.postApplyChecksum()).findFirst().orElse(server.postApplyChecksum() ^ 0x5a5a);
    return switch (kind) {
      case "replayed" -> lastAcked != null ? lastAcked : db.snapshot(now);
      case "snapshot-over" -> db.snapshot(now);
      case "gap" -> db.noChange(3, server.txid() + 2, server.postApplyChecksum(), now);
      case "wrong-pre-apply" -> db.noChange(3, server.txid() + 1, other | Checksum.FLAG, now);
      case "behind" -> db.noChange(3, server.txid(), other | Checksum.FLAG, now);
      default -> throw new IllegalArgumentException(kind);
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Running on a thread

  /** Starts committing and syncing on its own thread: a commit every {@code gapMillis} or so, a sync every ~0.4 s. */
  void start(int gapMillis) {
    thread = Thread.ofPlatform().daemon().name("node-" + name).start(() -> loop(gapMillis));
  }

  private void loop(int gapMillis) {
    long nextSync = 0;
    while (!closed) {
      try {
        if (waitWhilePaused()) continue;
        commit();
        if (System.currentTimeMillis() >= nextSync) {
          sync();
          nextSync = System.currentTimeMillis() + 100 + rng.nextInt(600);
        }
        Thread.sleep(1 + rng.nextInt(Math.max(1, 2 * gapMillis)));
      } catch (IOException e) {
        lastError = e.getMessage();
        assumed = null;
        tally.node("stream errors");
        sleepQuietly(100 + rng.nextInt(200)); // LiteFS restarts the stream on its next 1-s tick
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        lastError = e.toString();
        tally.find(Problem.HARNESS, name, "node thread: " + e);
        sleepQuietly(1000);
      }
    }
  }

  /** While paused: syncs until in sync (then "quiet") and waits; returns false when not paused. */
  private boolean waitWhilePaused() throws IOException, InterruptedException {
    synchronized (control) {
      if (!paused) return false;
      if (quiet) {
        control.wait(100);
        return true;
      }
    }
    assumed = null;
    if (sync()) {
      synchronized (control) {
        quiet = true;
        control.notifyAll();
      }
    }
    return true;
  }

  /**
   * Stops committing and waits until the node is in sync with the server (every local TXID acknowledged or
   * dropped for the server's state). False when that did not happen within {@code timeout}.
   */
  boolean pause(Duration timeout) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    synchronized (control) {
      paused = true;
      quiet = false;
      while (!quiet && System.currentTimeMillis() < deadline) control.wait(50);
      return quiet;
    }
  }

  void resume() {
    synchronized (control) {
      paused = false;
      quiet = false;
      control.notifyAll();
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    db.close();
  }
}
