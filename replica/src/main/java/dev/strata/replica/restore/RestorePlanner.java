package dev.strata.replica.restore;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaFiles;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Plans restores from a replica's listings (DESIGN.md "Restore"): the newest full-database file at or before the
 * target, then, level by level, the file reaching furthest without passing the target, until the target is reached.
 * This greedy choice gives the fewest files. A gap is an error naming the missing TXIDs, never an older state.
 *
 * <p>Restore points are file boundaries. Timestamps come from the LTX headers: from the listing when the backend
 * carries them (file, SFTP), else from {@link ReplicaClient#head} (S3 metadata), only for the files a search
 * visits.
 */
public final class RestorePlanner {
  private final ReplicaClient client;
  /** Each file's header fields read once (files never change once written). */
  private final HeaderCache headers = new HeaderCache();
  private ReplicaFiles files;

  /** A planner that lists the replica on first use. */
  public RestorePlanner(ReplicaClient client) {
    this.client = client;
  }

  /** What was read of files whose listing lacks their header: the time and, when read, the post-apply checksum. */
  private static final class HeaderCache {
    private record Read(Instant time, long postApplyChecksum) {}

    private final Map<LtxFileMeta, Read> read = new ConcurrentHashMap<>();
  }

  /** A planner over files already listed. */
  public RestorePlanner(ReplicaClient client, ReplicaFiles files) {
    this(client);
    this.files = files;
  }

  /** The replica's files (listed once). */
  public ReplicaFiles files() throws IOException {
    if (files == null) files = ReplicaFiles.of(client.listAllNames());
    return files;
  }

  /** A plan to the newest TXID on the replica; a gap before it is an error. */
  public RestorePlan latest() throws IOException {
    ReplicaFiles f = files();
    if (f.isEmpty()) throw new IOException("replica " + client.location() + " holds no backup");
    return described(plan(f, f.maxTxid()));
  }

  /**
   * {@code p} with its files described where the listing left them bare ({@link ReplicaClient#listAllNames}: an
   * encrypted replica), and planned again from them, so that their checksums are checked along the chain.
   */
  private RestorePlan described(RestorePlan p) throws IOException {
    if (client == null) return p; // a planner over files given, without their replica
    List<LtxFileMeta> d = client.describeListed(p.files());
    return d.equals(p.files()) ? p : plan(ReplicaFiles.of(d), p.targetTxid());
  }

  /** A plan to exactly {@code txid}, which must be a restore point. */
  public RestorePlan toTxid(long txid) throws IOException {
    ReplicaFiles f = files();
    if (f.isEmpty()) throw new IOException("replica " + client.location() + " holds no backup");
    TreeSet<Long> points = f.boundaries();
    if (!points.contains(txid)) {
      Long below = points.lower(txid), above = points.higher(txid);
      StringBuilder near = new StringBuilder();
      if (below != null) near.append(describe(f, below));
      if (above != null) near.append(near.isEmpty() ? "" : ", ").append(describe(f, above));
      throw new IllegalArgumentException("TXID " + Txid.format(txid) + " is not a restore point; nearest: " + near
          + " (see strata restore-points)");
    }
    return described(plan(f, txid));
  }

  private String describe(ReplicaFiles f, long txid) {
    LtxFileMeta file = f.endingAt(txid).getFirst();
    return Txid.format(txid) + (file.hasHeader() ? " at " + Timestamps.format(file.timestamp()) : "");
  }

  /**
   * A plan to the last restore point whose timestamp is at or before {@code time}. Assumes timestamps grow with
   * TXIDs, as they do for one writer's clock.
   */
  public RestorePlan toTimestamp(Instant time) throws IOException {
    List<RestorePoint> points = restorablePoints();
    if (points.isEmpty()) throw new IOException("replica " + client.location() + " holds no backup");
    int lo = 0, hi = points.size() - 1, found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (!timeOf(points.get(mid).txid()).isAfter(time)) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) {
      RestorePoint first = points.getFirst();
      throw new IllegalArgumentException("timestamp " + Timestamps.format(time) + " is before the first backup: "
          + "the earliest restore point is TXID " + Txid.format(first.txid()) + " at "
          + Timestamps.format(timeOf(first.txid())));
    }
    return described(plan(files(), points.get(found).txid()));
  }

  /**
   * Every TXID a restore can reach, with its timestamp and checksum (headers read where the listing lacks them:
   * one HEAD per file on S3, in parallel, once per file).
   */
  public List<RestorePoint> restorePoints() throws IOException {
    return withHeaders(restorablePoints());
  }

  /** The first and the last restore point with their timestamps (what a summary shows); empty when none. */
  public List<RestorePoint> firstAndLastRestorePoints() throws IOException {
    List<RestorePoint> points = restorablePoints();
    if (points.size() <= 1) return withHeaders(points);
    return withHeaders(List.of(points.getFirst(), points.getLast()));
  }

  private List<RestorePoint> withHeaders(List<RestorePoint> points) throws IOException {
    List<LtxFileMeta> unread = new ArrayList<>();
    for (RestorePoint p : points) {
      LtxFileMeta m = endingFile(p.txid());
      HeaderCache.Read known = headers.read.get(m);
      boolean needChecksum = p.postApplyChecksum() == 0;
      if (!m.hasHeader() || needChecksum) {
        if (known == null || (needChecksum && known.postApplyChecksum() == 0)) unread.add(m);
      }
    }
    List<LtxFileMeta> described = ReplicaFiles.describeAll(client, unread);
    for (int i = 0; i < unread.size(); i++) {
      LtxFileMeta d = described.get(i);
      headers.read.put(unread.get(i), new HeaderCache.Read(Instant.ofEpochMilli(d.timestamp()), d.postApplyChecksum()));
    }
    List<RestorePoint> out = new ArrayList<>(points.size());
    for (RestorePoint p : points) {
      long checksum = p.postApplyChecksum();
      if (checksum == 0) {
        HeaderCache.Read known = headers.read.get(endingFile(p.txid()));
        if (known != null) checksum = known.postApplyChecksum();
      }
      out.add(new RestorePoint(p.txid(), timeOf(p.txid()), checksum, p.files()));
    }
    return out;
  }

  /** The TXID of every restore point, in order (no request beyond the listing). */
  public List<Long> restorePointTxids() throws IOException {
    return restorablePoints().stream().map(RestorePoint::txid).toList();
  }

  /** Every restore point without its timestamp (which may cost a request). */
  private List<RestorePoint> restorablePoints() throws IOException {
    ReplicaFiles f = files();
    List<RestorePoint> out = new ArrayList<>();
    for (long txid : f.boundaries()) {
      RestorePlan p;
      try {
        p = plan(f, txid);
      } catch (IOException e) {
        continue; // not reachable: a gap, or no snapshot before it
      }
      out.add(new RestorePoint(txid, null, p.expectedChecksum(), p.files().size()));
    }
    return out;
  }

  /** A file ending at {@code txid}, preferring one whose listing carries its header. */
  private LtxFileMeta endingFile(long txid) throws IOException {
    List<LtxFileMeta> ending = files().endingAt(txid);
    for (LtxFileMeta m : ending) {
      if (m.hasHeader()) return m;
    }
    return ending.getFirst();
  }

  /** The timestamp of the files ending at {@code txid}. */
  private Instant timeOf(long txid) throws IOException {
    LtxFileMeta m = endingFile(txid);
    if (m.hasHeader()) return Instant.ofEpochMilli(m.timestamp());
    HeaderCache.Read known = headers.read.get(m);
    if (known == null) {
      known = new HeaderCache.Read(Instant.ofEpochMilli(ReplicaFiles.timestamp(client, m)), 0); // S3: one HEAD
      headers.read.putIfAbsent(m, known);
    }
    return known.time();
  }

  /**
   * Plans a restore to exactly {@code txid} from {@code files}: the newest full-database file at or before it, then
   * at each step the file holding the next TXID that reaches furthest without passing {@code txid} (ties: a file
   * starting exactly there, then the higher level). Throws an {@link IOException} naming the missing TXIDs when a
   * gap interrupts the chain, or when a file's pre-apply checksum contradicts the chain.
   */
  public static RestorePlan plan(ReplicaFiles files, long txid) throws IOException {
    LtxFileMeta base = files.baseAtOrBefore(txid);
    if (base == null) {
      throw new IOException("no snapshot at or before TXID " + Txid.format(txid) + " (a restore needs a file "
          + "starting at TXID 1)");
    }
    List<LtxFileMeta> plan = new ArrayList<>();
    plan.add(base);
    long cur = base.maxTxid(), post = base.postApplyChecksum();
    while (Txid.compare(cur, txid) < 0) {
      LtxFileMeta best = null;
      for (int level = 0; level < ReplicaClient.MAX_LEVEL; level++) {
        LtxFileMeta f = files.containing(level, cur + 1);
        if (f == null || Txid.compare(f.maxTxid(), txid) > 0) continue;
        if (best == null || better(f, best, cur)) best = f;
      }
      if (best == null) {
        long next = files.nextMinAfter(cur + 1);
        long missingTo = next == 0 || Txid.compare(next, txid) > 0 ? txid : next - 1;
        throw new IOException("gap in replica: TXIDs " + Txid.format(cur + 1) + "-" + Txid.format(missingTo)
            + " are missing (after " + plan.getLast().path() + "); cannot restore to TXID "
            + Txid.format(txid));
      }
      if (best.minTxid() == cur + 1 && post != 0 && best.preApplyChecksum() != 0
          && best.preApplyChecksum() != post) {
        throw new IOException("broken checksum chain in replica: " + best.path() + " expects database "
            + "checksum " + Checksum.format(best.preApplyChecksum()) + " but " + plan.getLast().path()
            + " ends at " + Checksum.format(post));
      }
      plan.add(best);
      post = best.postApplyChecksum();
      cur = best.maxTxid();
    }
    return RestorePlan.of(plan);
  }

  private static boolean better(LtxFileMeta f, LtxFileMeta best, long cur) {
    if (f.maxTxid() != best.maxTxid()) return Txid.compare(f.maxTxid(), best.maxTxid()) > 0;
    boolean exact = f.minTxid() == cur + 1, bestExact = best.minTxid() == cur + 1;
    if (exact != bestExact) return exact;
    return f.level() > best.level();
  }
}
