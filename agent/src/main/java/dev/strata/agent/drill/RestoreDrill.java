package dev.strata.agent.drill;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Txid;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import dev.strata.replica.restore.RestoreResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.LongUnaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One restore drill of one replica, what {@code strata verify} does: restores the latest state into scratch space
 * (one database at a time, under the meta directory, deleted afterwards), which proves every planned file, the
 * checksum chain and SQLite's integrity; then compares the restored checksum with the checksum the database had
 * at that TXID as capture recorded it. Reads only the replica and scratch space: it never takes the database's
 * write lock. A failure is logged at ERROR with the replica and the failing file or check.
 */
public final class RestoreDrill {
  private static final Logger log = LoggerFactory.getLogger(RestoreDrill.class);

  /** The outcome: ok, the TXID restored (0 if none), how long it took, and what failed. */
  public record Result(String replica, boolean ok, long txid, long millis, long finishedMillis, String error) {}

  private RestoreDrill() {}

  /**
   * Runs the drill. {@code liveChecksumAt} gives the database's checksum at a TXID as captured, or 0 when not
   * known (then only the replica's own proof counts).
   */
  public static Result run(String db, String replica, ReplicaClient client, Path scratchDir, IntegrityCheck check,
      LongUnaryOperator liveChecksumAt) {
    long start = System.nanoTime();
    Path dir = null;
    long txid = 0;
    try {
      Files.createDirectories(scratchDir);
      dir = Files.createTempDirectory(scratchDir, "drill-");
      RestorePlan plan = new RestorePlanner(client).latest();
      txid = plan.targetTxid();
      RestoreResult r = new RestoreExecutor(client, new RestoreExecutor.Options(2, check, false,
          RestoreProgress.silent())).restore(plan, dir.resolve("drill.db"));
      long live = liveChecksumAt.applyAsLong(r.txid());
      if (live != 0 && live != r.checksum()) {
        throw new IOException("restored TXID " + Txid.format(r.txid()) + " has checksum "
            + Checksum.format(r.checksum()) + ", the database had " + Checksum.format(live) + " at that TXID");
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      log.info("{}: restore drill of replica {} ok: TXID {}, checksum {}{}, {} files, {} ms", db, replica,
          Txid.format(r.txid()), Checksum.format(r.checksum()), live != 0 ? " (equals the database's)" : "",
          plan.files().size(), ms);
      return new Result(replica, true, r.txid(), ms, System.currentTimeMillis(), null);
    } catch (IOException | RuntimeException e) {
      long ms = (System.nanoTime() - start) / 1_000_000;
      String why = e.getMessage() != null ? e.getMessage() : e.toString();
      log.error("{}: restore drill of replica {} FAILED{}: {}", db, replica,
          txid != 0 ? " (restoring TXID " + Txid.format(txid) + ")" : "", why);
      return new Result(replica, false, txid, ms, System.currentTimeMillis(), why);
    } finally {
      if (dir != null) deleteTree(dir);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      log.warn("restore drill: could not clean {}: {}", dir, e.getMessage());
    }
  }
}
