package dev.strata.replica.restore;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

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
  private final Map<LtxFileMeta, Instant> headerTimes = new HashMap<>();
  private ReplicaFiles files;

  /** A planner that lists the replica on first use. */
  public RestorePlanner(ReplicaClient client) {
    this.client = client;
  }

  /** A planner over files already listed. */
  public RestorePlanner(ReplicaClient client, ReplicaFiles files) {
    this.client = client;
    this.files = files;
  }

  /** The replica's files (listed once). */
  public ReplicaFiles files() throws IOException {
    if (files == null) files = ReplicaFiles.list(client);
    return files;
  }

  /** A plan to the newest TXID on the replica; a gap before it is an error. */
  public RestorePlan latest() throws IOException {
    ReplicaFiles f = files();
    if (f.isEmpty()) throw new IOException("replica " + client.location() + " holds no backup");
    return plan(f, f.maxTxid());
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
    return plan(f, txid);
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
    List<RestorePoint> points = restorablePoints(false);
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
    return plan(files(), points.get(found).txid());
  }

  /** Every TXID a restore can reach, with its timestamp (headers read where the listing lacks them). */
  public List<RestorePoint> restorePoints() throws IOException {
    return restorablePoints(true);
  }

  private List<RestorePoint> restorablePoints(boolean withTimes) throws IOException {
    ReplicaFiles f = files();
    List<RestorePoint> out = new ArrayList<>();
    for (long txid : f.boundaries()) {
      RestorePlan p;
      try {
        p = plan(f, txid);
      } catch (IOException e) {
        continue; // not reachable: a gap, or no snapshot before it
      }
      Instant t = withTimes ? timeOf(txid) : null;
      out.add(new RestorePoint(txid, t, p.expectedChecksum(), p.files().size()));
    }
    return out;
  }

  /** The timestamp of the files ending at {@code txid}. */
  private Instant timeOf(long txid) throws IOException {
    List<LtxFileMeta> ending = files().endingAt(txid);
    for (LtxFileMeta m : ending) {
      if (m.hasHeader()) return Instant.ofEpochMilli(m.timestamp());
    }
    LtxFileMeta m = ending.getFirst();
    Instant t = headerTimes.get(m);
    if (t == null) {
      LtxFileMeta head = client.head(m.level(), m.range()); // S3: one HEAD for the stored metadata
      t = Instant.ofEpochMilli(head.hasHeader() ? head.timestamp() : readHeader(client, m).timestamp());
      headerTimes.put(m, t);
    }
    return t;
  }

  /** Reads the 100-byte header of a replica file (when its metadata lacks the header fields). */
  static LtxHeader readHeader(ReplicaClient client, LtxFileMeta m) throws IOException {
    try (InputStream in = client.openFile(m.level(), m.range(), 0)) {
      byte[] h = in.readNBytes(LtxHeader.SIZE);
      return LtxHeader.decode(h);
    } catch (dev.strata.ltx.LtxException e) {
      throw new IOException("replica file " + ReplicaFiles.name(m) + ": " + e.getMessage(), e);
    }
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
    while (cur < txid) {
      LtxFileMeta best = null;
      for (int level = 0; level < ReplicaClient.MAX_LEVEL; level++) {
        LtxFileMeta f = files.containing(level, cur + 1);
        if (f == null || f.maxTxid() > txid) continue;
        if (best == null || better(f, best, cur)) best = f;
      }
      if (best == null) {
        long next = files.nextMinAfter(cur + 1);
        long missingTo = next == 0 || next > txid ? txid : next - 1;
        throw new IOException("gap in replica: TXIDs " + Txid.format(cur + 1) + "-" + Txid.format(missingTo)
            + " are missing (after " + ReplicaFiles.name(plan.getLast()) + "); cannot restore to TXID "
            + Txid.format(txid));
      }
      if (best.minTxid() == cur + 1 && post != 0 && best.preApplyChecksum() != 0
          && best.preApplyChecksum() != post) {
        throw new IOException("broken checksum chain in replica: " + ReplicaFiles.name(best) + " expects database "
            + "checksum " + Checksum.format(best.preApplyChecksum()) + " but " + ReplicaFiles.name(plan.getLast())
            + " ends at " + Checksum.format(post));
      }
      plan.add(best);
      post = best.postApplyChecksum();
      cur = best.maxTxid();
    }
    return RestorePlan.of(plan);
  }

  private static boolean better(LtxFileMeta f, LtxFileMeta best, long cur) {
    if (f.maxTxid() != best.maxTxid()) return f.maxTxid() > best.maxTxid();
    boolean exact = f.minTxid() == cur + 1, bestExact = best.minTxid() == cur + 1;
    if (exact != bestExact) return exact;
    return f.level() > best.level();
  }
}
