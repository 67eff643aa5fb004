package dev.strata.bench.torture;

import dev.strata.bench.torture.NodeDatabase.State;
import dev.strata.bench.torture.ServerTally.Problem;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import java.util.ArrayList;
import java.util.HashSet;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The oracle of one database on the server: the state it must hold at every TXID it acknowledged. TXIDs come from
 * two sources only, so every state the server can show is predictable:
 * <ul>
 *   <li>an upload (LiteFS's {@code POST /db/tx}) answered 200: each TXID of the batch has the state the node built;
 *       the batch's last TXID is a restore point;
 *   <li>a restore (harness's {@code POST /db/restore} to TXID t) answered with TXID n: state(n) = state(t).
 * </ul>
 * An upload or a restore that got no answer may or may not have happened: it stays a candidate until the server
 * shows its position, which then either is the candidate's end (it happened) or has moved past it (it never will).
 * Any position or snapshot the server shows that is none of these is a finding, as is a position below the highest
 * acknowledged TXID.
 */
final class Lineage {
  /**
   * A TXID's expected state. {@code point}: a restore point (an upload's last TXID, or a restore). A restore is
   * stamped with the server's clock at some moment in [{@code tsMin}, {@code tsMax}]; an upload's with its header.
   */
  record Entry(State state, String origin, long ackMillis, boolean point, long tsMin, long tsMax) {}

  /** An upload that got no answer: applicable only while the server is at {@code from}. */
  private record Candidate(Pos from, List<State> states, String origin) {}

  /**
   * A restore the harness asked for and has not seen the answer of (or got an error for); {@code atMillis} is the
   * time asked for (−1: a TXID was).
   */
  record PendingRestore(long target, State state, long afterTxid, long startMillis, String origin, long atMillis) {}

  private final String db;
  private final ServerTally tally;
  private final InstantSource clock;
  private final TreeMap<Long, Entry> known = new TreeMap<>();
  private final List<Candidate> candidates = new ArrayList<>();
  private final List<PendingRestore> restores = new ArrayList<>();
  private long highestAcked;
  private String highestAckedOrigin = "";
  /** Positions already reported as lost or unexplained: the node sees them every few seconds. */
  private final Set<Pos> reported = new HashSet<>();

  /** {@code clock}: the server's, by which acknowledgements are timed. */
  Lineage(String db, ServerTally tally, InstantSource clock) {
    this.db = db;
    this.tally = tally;
    this.clock = clock;
  }

  String db() {
    return db;
  }

  /** An upload answered 200: the server now holds {@code batch}, its last state a restore point. */
  synchronized void acknowledged(List<State> batch, String origin) {
    long nowMillis = clock.millis();
    for (int i = 0; i < batch.size(); i++) {
      State s = batch.get(i);
      boolean point = i == batch.size() - 1;
      record(new Entry(s, origin, nowMillis, point, s.timestamp(), s.timestamp()));
    }
    long max = batch.getLast().txid();
    if (max > highestAcked) {
      highestAcked = max;
      highestAckedOrigin = origin;
    }
    candidates.removeIf(c -> c.states().getFirst().txid() <= max);
  }

  /** An upload that got no answer (the server died, the connection broke, a 5xx). */
  synchronized void unanswered(Pos from, List<State> batch, String origin) {
    candidates.add(new Candidate(from, List.copyOf(batch), origin));
  }

  /** Before asking for a restore to {@code target}: its answer may race with the node seeing its result. */
  synchronized PendingRestore restoreStarted(long target, String origin) {
    return restoreStarted(target, -1, origin);
  }

  /** The same for a restore by time: {@code target} is the point that time resolved to just before. */
  synchronized PendingRestore restoreStarted(long target, long atMillis, String origin) {
    long nowMillis = clock.millis();
    Entry e = known.get(target);
    if (e == null) throw new IllegalArgumentException(db + ": restore target " + Txid.format(target) + " unknown");
    PendingRestore r = new PendingRestore(target, e.state(), highestAcked, nowMillis, origin, atMillis);
    restores.add(r);
    return r;
  }

  /** The server answered a restore with its new TXID. */
  synchronized void restoreAnswered(PendingRestore r, long newTxid) {
    long nowMillis = clock.millis();
    restores.remove(r);
    State s = r.state();
    Entry existing = known.get(newTxid);
    if (existing != null && existing.point() && existing.origin().equals(r.origin())) return; // seen by the node
    if (existing != null) {
      // Restoring to the current TXID changes nothing and answers it (spec §3.4); any other TXID that already
      // existed means the restore claims a state the server held before.
      // By time, an upload that landed meanwhile (on any instance) may be the newest point at that time, and then the
      // current TXID, which the restore answers unchanged.
      boolean newerAtThatTime = r.atMillis() >= 0 && newTxid > r.target() && existing.point()
          && existing.state().timestamp() <= r.atMillis();
      if (!newerAtThatTime && (newTxid != r.target() || newTxid < r.afterTxid())) {
        tally.find(Problem.POINT, db, r.origin() + " answered TXID " + Txid.format(newTxid) + ", which already "
            + "held " + existing.origin());
      }
      return;
    }
    record(new Entry(new State(newTxid, s.sha256(), s.checksum(), s.commit(), -1), r.origin(), nowMillis, true,
        r.startMillis(), nowMillis));
    if (newTxid > highestAcked) {
      highestAcked = newTxid;
      highestAckedOrigin = r.origin();
    }
  }

  /**
   * A position the server reported ({@code GET /pos}, an EPOSMISMATCH body); {@code before} is
   * {@link #highestAcked()} read before the request was sent. Returns false after recording a finding.
   */
  synchronized boolean observe(Pos p, long before, String how) {
    return resolve(p, null, before, how);
  }

  /** A whole snapshot the server sent ({@code GET /db/snapshot}): its position and content. */
  synchronized boolean observeSnapshot(State s, long before, String how) {
    return resolve(s.pos(), s, before, how);
  }

  private boolean resolve(Pos p, State content, long before, String how) {
    if (p.txid() < before) {
      if (!reported.add(p)) return false;
      tally.find(Problem.LOST_ACK, db, how + ": server position " + p + " is below TXID " + Txid.format(before)
          + ", acknowledged (" + highestAckedOrigin + ")");
      return false;
    }
    Entry e = known.get(p.txid());
    if (e != null) {
      candidates.removeIf(c -> c.from().txid() < p.txid());
      return same(e.state(), p, content, e.origin(), how);
    }
    if (p.isZero() && highestAcked == 0) return true;
    Candidate applied = null;
    for (Candidate c : candidates) if (matches(c.states().getLast(), p, content)) applied = c;
    // Whatever else was pending from an older position can no longer apply: the server has moved past it.
    candidates.removeIf(c -> c.from().txid() < p.txid());
    if (applied != null) {
      acknowledged(applied.states(), applied.origin() + " (no answer, but the server applied it)");
      return true;
    }
    for (PendingRestore r : List.copyOf(restores)) {
      if (p.txid() > r.afterTxid() && matches(r.state(), new Pos(r.state().txid(), p.postApplyChecksum()), content)) {
        restoreAnswered(r, p.txid());
        return true;
      }
    }
    if (content != null) record(new Entry(content, "the unexplained state the server sent", clock.millis(), true,
        content.timestamp(), content.timestamp()));
    if (!reported.add(p)) return false;
    tally.find(Problem.UNKNOWN_STATE, db, how + ": server at " + p + (content == null ? "" : " sha256 "
        + content.sha256()) + ", which no acknowledged or unanswered upload and no restore produced (highest "
        + "acknowledged " + Txid.format(highestAcked) + ", " + highestAckedOrigin + ")");
    return false;
  }

  private static boolean matches(State expected, Pos p, State content) {
    return expected.pos().equals(p) && (content == null || content.sha256().equals(expected.sha256()));
  }

  private boolean same(State expected, Pos p, State content, String origin, String how) {
    if (expected.checksum() != p.postApplyChecksum()) {
      tally.find(Problem.CONTENT, db, how + ": TXID " + Txid.format(p.txid()) + " has checksum "
          + Checksum.format(p.postApplyChecksum()) + ", expected " + Checksum.format(expected.checksum()) + " ("
          + origin + ")");
      return false;
    }
    if (content != null && !content.sha256().equals(expected.sha256())) {
      tally.find(Problem.CONTENT, db, how + ": TXID " + Txid.format(p.txid()) + " sha256 " + content.sha256()
          + ", expected " + expected.sha256() + " (" + origin + ")");
      return false;
    }
    return true;
  }

  private void record(Entry e) {
    Entry before = known.get(e.state().txid());
    if (before != null && !before.state().sha256().equals(e.state().sha256())) {
      tally.find(Problem.CONTENT, db, "TXID " + Txid.format(e.state().txid()) + " acknowledged twice with different "
          + "states: " + before.state().sha256() + " (" + before.origin() + ") and " + e.state().sha256() + " ("
          + e.origin() + ")");
    }
    known.put(e.state().txid(), e);
  }

  synchronized long highestAcked() {
    return highestAcked;
  }

  /** The expected state at {@code txid}, or null when the server never acknowledged it. */
  synchronized Entry entry(long txid) {
    return known.get(txid);
  }

  /** The restore points acknowledged so far, by TXID. */
  synchronized NavigableMap<Long, Entry> points() {
    TreeMap<Long, Entry> out = new TreeMap<>();
    for (Map.Entry<Long, Entry> e : known.entrySet()) if (e.getValue().point()) out.put(e.getKey(), e.getValue());
    return out;
  }

  /** Acknowledged TXIDs that are not restore points (inside an upload's batch). */
  synchronized List<Long> insideBatches() {
    List<Long> out = new ArrayList<>();
    for (Map.Entry<Long, Entry> e : known.entrySet()) if (!e.getValue().point()) out.add(e.getKey());
    return out;
  }
}
