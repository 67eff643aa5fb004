package dev.strata.replica.follow;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import dev.strata.replica.restore.RestoreResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code strata restore -f}: keeps a SQLite database file current from one or more replicas. Restores the latest
 * state, then polls level 0 for the files after the TXID it holds and applies each as one atomic batch through
 * {@link JournaledDatabase}, proving every batch against the file's PostApplyChecksum before the file changes. A
 * break in the chain (a new snapshot, a gap after compaction, a checksum that does not continue) is applied as a
 * snapshot: the latest state is restored into scratch space beside the output and only the pages that differ are
 * applied, as one batch. The TXID, checksum and the source's page-1 header are kept in {@code <db>-strata-follow},
 * so a restart continues where the last run stopped, after proving the file still holds that state.
 */
public final class Follower implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Follower.class);

  /** Settings. */
  public record Options(Duration interval, int parallelism, IntegrityCheck integrityCheck, boolean force,
      RestoreProgress progress) {
    public static Options defaults() {
      return new Options(Duration.ofSeconds(1), 8, IntegrityCheck.QUICK, false, RestoreProgress.silent());
    }
  }

  /** Every this many polls that find nothing in level 0, level 9 is listed too. */
  static final int SNAPSHOT_POLL_EVERY = 10;

  private final List<ReplicaClient> clients;
  private final Path out;
  private final Options options;
  private JournaledDatabase db;
  private FollowState.Point state;
  private int counter;
  private volatile boolean stopped;
  private final Object wake = new Object();
  private long polls;
  private long batches;

  public Follower(List<ReplicaClient> clients, Path out, Options options) {
    if (clients.isEmpty()) throw new IllegalArgumentException("no replica to follow");
    this.clients = List.copyOf(clients);
    this.out = out.toAbsolutePath().normalize();
    this.options = options;
  }

  /** The TXID the output holds. */
  public long txid() {
    return state.txid();
  }

  /** The database checksum of the source at {@link #txid}. */
  public long checksum() {
    return state.checksum();
  }

  public long polls() {
    return polls;
  }

  public long batches() {
    return batches;
  }

  private Path scratch() {
    return out.resolveSibling(out.getFileName() + "-strata-follow.scratch");
  }

  /**
   * Brings the output to the latest state: a full restore when there is none, otherwise continues from the state
   * kept beside it (after checking that the file holds it), catching up from the replica.
   */
  public void start() throws IOException {
    FollowState saved = FollowState.read(out);
    if (Files.exists(out) && saved == null) {
      if (!options.force()) {
        throw new IOException("output file already exists and was not written by restore -f (no "
            + FollowState.pathFor(out).getFileName() + "): " + out + " (use --force to replace it)");
      }
      for (String s : new String[] {"", "-wal", "-shm", "-journal"}) {
        Files.deleteIfExists(out.resolveSibling(out.getFileName() + s));
      }
    }
    if (!Files.exists(out)) {
      initialRestore();
      return;
    }
    int pageSize = pageSizeOf(out);
    db = JournaledDatabase.open(out, pageSize);
    byte[] page1 = new byte[pageSize];
    db.readPage(1, page1);
    counter = JournaledDatabase.changeCounter(page1);
    FollowState.Point held = null;
    for (FollowState.Point p : new FollowState.Point[] {saved.committed(), saved.pending()}) {
      if (p != null && held == null && db.logicalChecksum(p.header()) == p.checksum()) held = p;
    }
    if (held != null) {
      state = held;
      new FollowState(state, null).write(out);
      log.info("following {} from TXID {} (continued from {})", out, Txid.format(state.txid()),
          FollowState.pathFor(out).getFileName());
    } else {
      // The file does not hold what the state says: keep it readable, and bring it to the latest state as a
      // snapshot; the checksum that is proven from here on is the snapshot's.
      log.warn("{} does not hold TXID {} that {} names: applying the latest state as a snapshot", out,
          Txid.format(saved.committed().txid()), FollowState.pathFor(out).getFileName());
      state = new FollowState.Point(0, 0, saved.committed().header());
      resync();
    }
    poll();
  }

  /**
   * Runs {@link #poll} every interval until {@link #stop}; a failed poll is logged and retried. Never interrupted
   * (an interrupt would close the database's file channel): {@link #stop} wakes the wait.
   */
  public void run() throws IOException {
    long next = System.nanoTime();
    while (!stopped) {
      next += options.interval().toNanos();
      synchronized (wake) {
        long wait;
        while (!stopped && (wait = next - System.nanoTime()) > 0) {
          try {
            wake.wait(Math.max(1, wait / 1_000_000), (int) (wait % 1_000_000) / 1000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("follow interrupted");
          }
        }
      }
      if (stopped) break;
      if (System.nanoTime() - next > options.interval().toNanos()) next = System.nanoTime(); // no burst after a slow poll
      try {
        poll();
      } catch (IOException | RuntimeException e) {
        log.error("follow {}: {}", out, e.getMessage() != null ? e.getMessage() : e.toString());
      }
    }
  }

  /** Ends {@link #run} after the batch in progress, if any. */
  public void stop() {
    stopped = true;
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  /**
   * One poll: lists level 0 after the TXID held on every replica, applies the longest chain that continues it;
   * when files are listed but none continues it, applies the latest state as a snapshot. True when the output
   * changed.
   */
  public boolean poll() throws IOException {
    polls++;
    ReplicaClient best = null;
    List<LtxFileMeta> bestChain = List.of();
    boolean listedOthers = false;
    IOException firstError = null;
    for (ReplicaClient c : clients) {
      List<LtxFileMeta> files;
      try {
        files = c.listFilesAfter(0, state.txid());
      } catch (IOException e) {
        if (firstError == null) firstError = e;
        log.warn("follow: listing {} failed: {}", c.location(), e.getMessage());
        continue;
      }
      List<LtxFileMeta> chain = new ArrayList<>();
      long next = state.txid() + 1;
      for (LtxFileMeta f : files) {
        if (f.minTxid() != next) break;
        chain.add(f);
        next = f.maxTxid() + 1;
      }
      if (chain.isEmpty() && !files.isEmpty()) listedOthers = true;
      if (!chain.isEmpty() && (bestChain.isEmpty() || chain.getLast().maxTxid() > bestChain.getLast().maxTxid())) {
        best = c;
        bestChain = chain;
      }
    }
    if (best == null && !listedOthers && polls % SNAPSHOT_POLL_EVERY == 0) {
      // A new snapshot with no commit after it yet shows only in level 9 (a second listing, so not on every poll).
      for (ReplicaClient c : clients) {
        try {
          for (LtxFileMeta f : c.listFiles(9)) {
            if (Long.compareUnsigned(f.maxTxid(), state.txid()) > 0) listedOthers = true;
          }
        } catch (IOException e) {
          log.warn("follow: listing snapshots of {} failed: {}", c.location(), e.getMessage());
        }
      }
    }
    if (best == null) {
      if (listedOthers) {
        log.info("follow {}: the replica does not continue TXID {}: applying the latest state as a snapshot", out,
            Txid.format(state.txid()));
        return resync();
      }
      if (firstError != null && clients.size() == 1) throw firstError;
      return false;
    }
    for (LtxFileMeta f : bestChain) {
      if (stopped) return true;
      if (!applyFile(best, f)) {
        log.info("follow {}: {} does not continue checksum {}: applying the latest state as a snapshot", out,
            f.range().fileName(), Checksum.format(state.checksum()));
        return resync();
      }
    }
    return true;
  }

  /** Downloads and applies one level-0 file; false when it does not continue the state held. */
  private boolean applyFile(ReplicaClient c, LtxFileMeta f) throws IOException {
    TreeMap<Integer, byte[]> pages = new TreeMap<>();
    LtxHeader h;
    LtxTrailer t;
    try (InputStream in = c.openFile(0, f.range(), 0); LtxDecoder dec = new LtxDecoder(in)) {
      h = dec.header();
      if (h.pageSize() != db.pageSize() || (!h.isSnapshot() && h.preApplyChecksum() != state.checksum())) {
        return false;
      }
      byte[] buf = new byte[h.pageSize()];
      int pgno;
      while ((pgno = dec.readPage(buf)) != 0) pages.put(pgno, buf.clone());
      t = dec.finish();
    }
    int commit = h.commit();
    TreeSet<Integer> pgnos = new TreeSet<>(pages.keySet());
    if (h.isSnapshot()) { // a snapshot in level 0: every page is in it, those it lacks beyond are truncated
      for (int p = 1; p <= Math.min(commit, db.pageCount()); p++) {
        if (!pages.containsKey(p)) pgnos.add(p);
      }
    }
    byte[] zero = new byte[h.pageSize()];
    applyBatch(pgnos, commit, h.maxTxid(), t.postApplyChecksum(), (p, buf) -> {
      byte[] src = pages.get(p);
      System.arraycopy(src != null ? src : zero, 0, buf, 0, buf.length);
    });
    return true;
  }

  /** Reads the new logical content of one page of a batch. */
  private interface PageSource {
    void read(int pgno, byte[] buf) throws IOException;
  }

  /**
   * Applies one batch: {@code pgnos} (logical content from {@code source}) and a new page count, checked to give
   * {@code expected} before anything is written, then committed atomically.
   */
  private void applyBatch(TreeSet<Integer> pgnos, int commit, long txid, long expected, PageSource source)
      throws IOException {
    int pageSize = db.pageSize();
    int lock = LtxHeader.lockPgno(pageSize);
    int orig = db.pageCount();
    byte[] page1 = new byte[pageSize];
    if (pgnos.contains(1)) {
      source.read(1, page1);
    } else {
      db.readPage(1, page1);
      JournaledDatabase.logicalPage1(page1, state.header());
    }
    byte[] header = Arrays.copyOf(page1, 100);
    // The checksum the file will have, from the pages that change: proven before the file changes.
    long sum = state.checksum();
    byte[] oldPage = new byte[pageSize];
    byte[] newPage = new byte[pageSize];
    TreeSet<Integer> all = new TreeSet<>(pgnos);
    all.add(1);
    all.removeIf(p -> p > commit || p == lock);
    for (int p : all) {
      long old = 0;
      if (p <= orig) {
        db.readPage(p, oldPage);
        if (p == 1) JournaledDatabase.logicalPage1(oldPage, state.header());
        old = Checksum.ofPage(p, oldPage);
      }
      if (p == 1) System.arraycopy(page1, 0, newPage, 0, pageSize);
      else source.read(p, newPage);
      sum = Checksum.roll(sum, old, Checksum.ofPage(p, newPage));
    }
    for (int p = commit + 1; p <= orig; p++) {
      if (p == lock) continue;
      db.readPage(p, oldPage);
      if (p == 1) JournaledDatabase.logicalPage1(oldPage, state.header());
      sum = Checksum.roll(sum, Checksum.ofPage(p, oldPage), 0);
    }
    if (commit == 0) sum = Checksum.EMPTY_DATABASE;
    if (sum != expected) {
      throw new IOException("follow " + out + ": applying TXID " + Txid.format(txid) + " would give checksum "
          + Checksum.format(sum) + ", the replica says " + Checksum.format(expected) + ": nothing applied");
    }
    int newCounter = counter + 1;
    JournaledDatabase.physicalPage1(page1, newCounter, commit);
    int[] order = all.stream().mapToInt(Integer::intValue).toArray();
    FollowState.Point next = new FollowState.Point(txid, expected, header);
    db.apply(new JournaledDatabase.Pages() {
      @Override
      public int[] pgnos() {
        return order;
      }

      @Override
      public void read(int pgno, byte[] buf) throws IOException {
        if (pgno == 1) System.arraycopy(page1, 0, buf, 0, pageSize);
        else source.read(pgno, buf);
      }
    }, commit, () -> {
      try {
        new FollowState(state, next).write(out);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    counter = newCounter;
    state = next;
    new FollowState(state, null).write(out);
    batches++;
    log.debug("follow {}: TXID {} applied ({} pages)", out, Txid.format(txid), order.length);
  }

  /** The plan reaching furthest over all replicas; null when none holds anything. */
  private record Chosen(ReplicaClient client, RestorePlan plan) {}

  private Chosen chooseLatest() throws IOException {
    Chosen best = null;
    IOException firstError = null;
    for (ReplicaClient c : clients) {
      try {
        RestorePlanner planner = new RestorePlanner(c);
        if (planner.files().isEmpty()) continue;
        RestorePlan p = planner.latest();
        if (best == null || p.targetTxid() > best.plan.targetTxid()) best = new Chosen(c, p);
      } catch (IOException e) {
        if (firstError == null) firstError = e;
        log.warn("follow: planning on {} failed: {}", c.location(), e.getMessage());
      }
    }
    if (best == null && firstError != null) throw firstError;
    return best;
  }

  /** Restores the latest state into the scratch file; null when no replica holds a backup. */
  private RestoreResult restoreScratch(Chosen chosen) throws IOException {
    Path scratch = scratch();
    RestoreResult r = new RestoreExecutor(chosen.client, new RestoreExecutor.Options(options.parallelism(),
        options.integrityCheck(), true, options.progress())).restore(chosen.plan, scratch);
    for (String s : new String[] {"-wal", "-shm", "-journal"}) {
      Files.deleteIfExists(scratch.resolveSibling(scratch.getFileName() + s));
    }
    return r;
  }

  private void initialRestore() throws IOException {
    Chosen chosen = chooseLatest();
    if (chosen == null) {
      throw new IOException("no backup found in "
          + String.join(", ", clients.stream().map(ReplicaClient::location).toList()));
    }
    RestoreResult r = restoreScratch(chosen);
    Path scratch = scratch();
    int pageSize = pageSizeOf(scratch);
    byte[] page1 = new byte[pageSize];
    try (FileChannel ch = FileChannel.open(scratch, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.read(ByteBuffer.wrap(page1), 0);
      byte[] header = Arrays.copyOf(page1, 100);
      int commit = (int) (ch.size() / pageSize);
      counter = 1;
      JournaledDatabase.physicalPage1(page1, counter, commit);
      ch.write(ByteBuffer.wrap(page1), 0);
      ch.force(false);
      state = new FollowState.Point(r.txid(), r.checksum(), header);
    }
    new FollowState(state, null).write(out);
    Files.move(scratch, out, StandardCopyOption.ATOMIC_MOVE);
    FileReplicaClient.fsyncDirectory(out.getParent());
    db = JournaledDatabase.open(out, pageSize);
    log.info("following {}: restored TXID {} from {}", out, Txid.format(r.txid()), chosen.client.location());
  }

  /** Applies the latest state as one batch of the pages that differ. True when the output changed. */
  private boolean resync() throws IOException {
    Chosen chosen = chooseLatest();
    if (chosen == null) return false;
    if (chosen.plan.targetTxid() == state.txid() && chosen.plan.expectedChecksum() == state.checksum()) return false;
    RestoreResult r = restoreScratch(chosen);
    Path scratch = scratch();
    try (FileChannel ch = FileChannel.open(scratch, StandardOpenOption.READ)) {
      int pageSize = db.pageSize();
      if (pageSizeOf(scratch) != pageSize) {
        throw new IOException("follow " + out + ": the replica's page size changed to " + pageSizeOf(scratch)
            + ": restore it anew");
      }
      int commit = (int) (ch.size() / pageSize);
      int orig = db.pageCount();
      TreeSet<Integer> pgnos = new TreeSet<>();
      byte[] a = new byte[pageSize];
      byte[] b = new byte[pageSize];
      PageSource source = (p, buf) -> {
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, pageSize);
        while (bb.hasRemaining()) {
          if (ch.read(bb, (long) (p - 1) * pageSize + bb.position()) < 0) throw new IOException("short read");
        }
      };
      for (int p = 1; p <= commit; p++) {
        if (p > orig || p == 1) {
          pgnos.add(p);
          continue;
        }
        source.read(p, a);
        db.readPage(p, b);
        if (!Arrays.equals(a, b)) pgnos.add(p);
      }
      // The state's checksum may be unknown (a file that did not hold its state): prove from the file itself.
      if (state.txid() == 0) state = new FollowState.Point(0, db.logicalChecksum(state.header()), state.header());
      applyBatch(pgnos, commit, r.txid(), r.checksum(), source);
    } finally {
      Files.deleteIfExists(scratch);
    }
    log.info("follow {}: applied TXID {} from {} as a snapshot", out, Txid.format(r.txid()),
        chosen.client.location());
    return true;
  }

  /** The page size in a SQLite header (bytes 16–17, 1 meaning 65536). */
  static int pageSizeOf(Path file) throws IOException {
    byte[] h = new byte[100];
    try (InputStream in = Files.newInputStream(file)) {
      if (in.readNBytes(h, 0, 100) < 100) throw new IOException("not a SQLite database (too short): " + file);
    }
    int v = (h[16] & 0xff) << 8 | (h[17] & 0xff);
    return v == 1 ? 65536 : v;
  }

  @Override
  public void close() throws IOException {
    if (db != null) db.close();
  }
}
