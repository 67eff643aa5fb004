package dev.strata.replica;

import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Semaphore;
import java.util.function.Predicate;

/**
 * The catalogue of one replica: its files, level by level, as listed at one moment. Restore plans, restore points,
 * compaction and retention are all computed from it, for the agent and the server alike. Immutable.
 *
 * <p>TXIDs are ordered unsigned ({@link Txid#compare}) everywhere here, as in LiteFS.
 */
public final class ReplicaFiles {
  /** Requests in flight at once when describing many files (as litefs-backup does). */
  static final int PARALLEL = 32;

  private final List<List<LtxFileMeta>> levels; // index = level number 0..9, each sorted by range
  private final long[][] mins; // per level, the MinTXIDs for binary search
  private final List<LtxFileMeta> bases; // files with MinTXID 1 by MaxTXID; at equal MaxTXID the higher level last
  private final Map<Long, List<LtxFileMeta>> byMax = new HashMap<>(); // files by MaxTXID, lowest level first

  private ReplicaFiles(List<List<LtxFileMeta>> levels) {
    this.levels = levels;
    this.bases = levels.stream().flatMap(List::stream).filter(f -> f.minTxid() == 1)
        .sorted(Comparator.comparing(LtxFileMeta::maxTxid, Txid::compare).thenComparingInt(LtxFileMeta::level))
        .toList();
    for (List<LtxFileMeta> l : levels) {
      for (LtxFileMeta f : l) byMax.computeIfAbsent(f.maxTxid(), k -> new ArrayList<>(1)).add(f);
    }
    this.mins = new long[levels.size()][];
    for (int l = 0; l < levels.size(); l++) {
      List<LtxFileMeta> files = levels.get(l);
      mins[l] = new long[files.size()];
      for (int i = 0; i < files.size(); i++) mins[l][i] = files.get(i).minTxid();
    }
  }

  /** Lists every level of a replica ({@link ReplicaClient#listAllFiles}: one LIST per 1000 files on S3). */
  public static ReplicaFiles list(ReplicaClient client) throws IOException {
    return of(client.listAllFiles());
  }

  /** A catalogue of the given files (any order, any levels). */
  public static ReplicaFiles of(Collection<LtxFileMeta> files) {
    List<List<LtxFileMeta>> levels = new ArrayList<>();
    for (int l = 0; l <= ReplicaClient.MAX_LEVEL; l++) levels.add(new ArrayList<>());
    for (LtxFileMeta f : files) levels.get(f.level()).add(f);
    for (List<LtxFileMeta> l : levels) l.sort(Comparator.comparing(LtxFileMeta::range));
    return new ReplicaFiles(levels.stream().map(List::copyOf).toList());
  }

  /** The files of one level in TXID order. */
  public List<LtxFileMeta> level(int level) {
    return levels.get(ReplicaClient.checkLevel(level));
  }

  /** Every file, level by level. */
  public List<LtxFileMeta> all() {
    List<LtxFileMeta> all = new ArrayList<>();
    levels.forEach(all::addAll);
    return all;
  }

  /** True when the replica holds no file at all. */
  public boolean isEmpty() {
    return levels.stream().allMatch(List::isEmpty);
  }

  /** The highest MaxTXID of any file; 0 for an empty replica. */
  public long maxTxid() {
    long max = 0;
    for (List<LtxFileMeta> l : levels) {
      if (!l.isEmpty()) max = Txid.max(max, l.getLast().maxTxid());
    }
    return max;
  }

  /** Total bytes stored. */
  public long totalBytes() {
    return levels.stream().flatMap(List::stream).mapToLong(LtxFileMeta::size).sum();
  }

  /** Every file boundary (MaxTXID) in ascending order: the candidates for restore points. */
  public TreeSet<Long> boundaries() {
    TreeSet<Long> points = new TreeSet<>(Txid::compare);
    points.addAll(byMax.keySet());
    return points;
  }

  /** The files (any level) whose MaxTXID is {@code txid}. */
  public List<LtxFileMeta> endingAt(long txid) {
    return List.copyOf(byMax.getOrDefault(txid, List.of()));
  }

  /** The file of {@code level} whose range holds {@code txid}, or null. */
  public LtxFileMeta containing(int level, long txid) {
    long[] m = mins[level];
    int lo = 0, hi = m.length - 1, found = -1;
    while (lo <= hi) { // last file with MinTXID <= txid
      int mid = (lo + hi) >>> 1;
      if (Txid.compare(m[mid], txid) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return null;
    LtxFileMeta f = levels.get(level).get(found);
    return Txid.compare(f.maxTxid(), txid) >= 0 ? f : null;
  }

  /** The smallest MinTXID above {@code txid} in any level below the snapshot level, or 0 when none. */
  public long nextMinAfter(long txid) {
    long next = 0;
    for (int level = 0; level < ReplicaClient.MAX_LEVEL; level++) {
      for (LtxFileMeta f : levels.get(level)) {
        if (Txid.compare(f.minTxid(), txid) > 0) {
          if (next == 0 || Txid.compare(f.minTxid(), next) < 0) next = f.minTxid();
          break;
        }
      }
    }
    return next;
  }

  /**
   * The newest full-database file (MinTXID 1, usually a level-9 snapshot) ending at or before {@code txid}, from
   * which a restore to {@code txid} starts; null when there is none. Snapshots win ties.
   */
  public LtxFileMeta baseAtOrBefore(long txid) {
    int lo = 0, hi = bases.size() - 1, found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (Txid.compare(bases.get(mid).maxTxid(), txid) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? null : bases.get(found);
  }

  // ---- header fields of files whose listing lacks them (S3) ----

  /**
   * The file with its header fields and post-apply checksum. When the listing did not carry them (S3), one
   * {@link ReplicaClient#head} request fetches them; when even that finds none (an object written by another tool),
   * they are read from the file's first 100 and last 16 bytes.
   */
  public static LtxFileMeta describe(ReplicaClient client, LtxFileMeta f) throws IOException {
    if (f.described()) return f;
    LtxFileMeta h = client.head(f.level(), f.range());
    if (h.described()) return h;
    try {
      byte[] head = readAt(client, f, 0, LtxHeader.SIZE);
      byte[] tail = readAt(client, f, h.size() - LtxTrailer.SIZE, LtxTrailer.SIZE);
      LtxFileInfo info = new LtxFileInfo(LtxHeader.decode(head), LtxTrailer.decode(tail, 0), -1);
      return LtxFileMeta.stored(f.level(), f.range(), info.header(), info.trailer(), h.size(), h.createdAt());
    } catch (LtxException e) {
      throw new IOException("replica file " + f.path() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The LTX header timestamp of a file: from the listing, else one {@link ReplicaClient#head} request, else its
   * first 100 bytes (the trailer is not needed for a time).
   */
  public static long timestamp(ReplicaClient client, LtxFileMeta f) throws IOException {
    if (f.hasHeader()) return f.timestamp();
    LtxFileMeta h = client.head(f.level(), f.range());
    if (h.hasHeader()) return h.timestamp();
    try {
      return LtxHeader.decode(readAt(client, f, 0, LtxHeader.SIZE)).timestamp();
    } catch (LtxException e) {
      throw new IOException("replica file " + f.path() + ": " + e.getMessage(), e);
    }
  }

  private static byte[] readAt(ReplicaClient client, LtxFileMeta f, long offset, int n) throws IOException {
    try (InputStream in = client.openFile(f.level(), f.range(), Math.max(0, offset))) {
      byte[] b = in.readNBytes(n);
      if (b.length < n) throw new IOException("replica file " + f.path() + " is too short to be an LTX file");
      return b;
    }
  }

  /** {@link #describe}s files, up to 32 requests at a time; the result is in the order given. */
  public static List<LtxFileMeta> describeAll(ReplicaClient client, List<LtxFileMeta> files) throws IOException {
    if (files.stream().allMatch(LtxFileMeta::described)) return files;
    return List.copyOf(inParallel(files, f -> describe(client, f), e -> false,
        "reading file headers of " + client.location()));
  }

  /** One request's worth of work on a file (a HEAD, a read of its header). */
  @FunctionalInterface
  public interface FileStep {
    LtxFileMeta apply(LtxFileMeta file) throws IOException;
  }

  /**
   * Applies {@code step} to every file, up to 32 at a time on virtual threads; the results are in the order given
   * (a step may return null). When several fail, the error thrown is one for which {@code preferred} holds, if any.
   */
  public static List<LtxFileMeta> inParallel(List<LtxFileMeta> files, FileStep step, Predicate<IOException> preferred,
      String what) throws IOException {
    LtxFileMeta[] out = new LtxFileMeta[files.size()];
    IOException[] error = new IOException[1];
    Semaphore slots = new Semaphore(PARALLEL);
    List<Thread> threads = new ArrayList<>(files.size());
    for (int i = 0; i < files.size(); i++) {
      int at = i;
      slots.acquireUninterruptibly();
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          out[at] = step.apply(files.get(at));
        } catch (IOException e) {
          synchronized (error) {
            if (error[0] == null || preferred.test(e)) error[0] = e;
          }
        } finally {
          slots.release();
        }
      }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted " + what);
      }
    }
    if (error[0] != null) throw error[0];
    return java.util.Arrays.asList(out);
  }
}
