package dev.strata.server.store;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The right to run one database's storage jobs (flush, compaction, snapshot, retention, deletion), held by one server
 * instance at a time until {@code expires_at}. Every acquisition raises the epoch; the holder's metadata commits
 * {@link #check} that the epoch is still theirs in the same transaction, so an instance that paused past its lease
 * (a GC pause, a partition) and was replaced cannot commit stale work: what it wrote to storage stays uncatalogued
 * and is swept later.
 *
 * <p>Expiry is kept on the metadata store's clock ({@link #now}): on PostgreSQL every expiry is set from and compared
 * with the server's time, so instances whose own clocks disagree still agree on who holds a lease. The embedded store
 * serves one instance, and its clock is that instance's.
 */
public record Lease(String cluster, String name, String owner, long epoch) {

  /** Thrown when a commit finds that the lease was taken over. */
  public static final class LostException extends IOException {
    public LostException(Lease l) {
      super("lease on " + l.cluster() + "/" + l.name() + " (epoch " + l.epoch() + ") was taken over by another"
          + " instance; this job's work is discarded");
    }
  }

  /**
   * Takes the lease of {@code cluster/name} for {@code ttlMillis} when it is free, expired or already {@code owner}'s;
   * null when another instance holds it. {@code localNow} is the caller's clock, used only by the embedded store.
   */
  public static Lease acquire(Connection c, String cluster, String name, String owner, long localNow, long ttlMillis)
      throws SQLException {
    String now = now(c, localNow);
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO leases (cluster, name, owner, epoch, expires_at)"
        + " VALUES (?, ?, ?, 1, " + now + " + ?) ON CONFLICT (cluster, name) DO UPDATE SET owner = excluded.owner,"
        + " epoch = leases.epoch + 1, expires_at = excluded.expires_at"
        + " WHERE leases.expires_at < " + now + " OR leases.owner = excluded.owner RETURNING epoch")) {
      ps.setString(1, cluster);
      ps.setString(2, name);
      ps.setString(3, owner);
      ps.setLong(4, ttlMillis);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Lease(cluster, name, owner, rs.getLong(1)) : null;
      }
    }
  }

  /** Extends the lease to {@code ttlMillis} from now; false when it was taken over. */
  public boolean renew(Connection c, long localNow, long ttlMillis) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE leases SET expires_at = " + now(c, localNow)
        + " + ? WHERE cluster = ? AND name = ? AND owner = ? AND epoch = ?")) {
      ps.setLong(1, ttlMillis);
      bind(ps, 2);
      return ps.executeUpdate() == 1;
    }
  }

  /** Gives the lease up, so that another instance need not wait for it to expire. */
  public void release(Connection c) throws SQLException {
    releaseRows(c);
  }

  /**
   * Gives the lease up as the last statement of the job's last transaction, and fails that transaction unless the
   * lease is still this one: one statement where a {@link #check} and a release would be two. On PostgreSQL the row
   * stays locked until the commit, as after a check.
   */
  public void finish(Connection c) throws SQLException, LostException {
    if (!tryFinish(c)) throw new LostException(this);
  }

  /**
   * {@link #finish} for a transaction that records several jobs: false, and nothing changed, when the lease was taken
   * over; the caller then leaves that job's writes out. Held true, the row stays locked until the commit.
   */
  public boolean tryFinish(Connection c) throws SQLException {
    return releaseRows(c) == 1;
  }

  private int releaseRows(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE leases SET expires_at = 0 WHERE cluster = ? AND name = ?"
        + " AND owner = ? AND epoch = ?")) {
      bind(ps, 1);
      return ps.executeUpdate();
    }
  }

  /**
   * Fails the caller's transaction unless this lease is still the current one; on PostgreSQL it also holds the
   * lease's row until the transaction ends, so that no takeover can slip in between this check and the commit.
   */
  public void check(Connection c) throws SQLException, LostException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE leases SET epoch = epoch WHERE cluster = ? AND name = ?"
        + " AND owner = ? AND epoch = ?")) {
      bind(ps, 1);
      if (ps.executeUpdate() != 1) throw new LostException(this);
    }
  }

  /**
   * The time now in epoch milliseconds, as SQL on {@code c}. On PostgreSQL the server's clock, and
   * {@code clock_timestamp()} rather than {@code now()}: {@code now()} is when the transaction began, so an
   * acquisition that waited for the lease's row lock (behind the holder's renewal or commit) would judge the expiry
   * by a time from before that wait, and a renewal would count the lease's length from then;
   * {@code clock_timestamp()} is read when the statement gets to the row. On the embedded store the caller's clock,
   * written in as a number.
   */
  private static String now(Connection c, long localNow) throws SQLException {
    if (c.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
      return "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
    }
    return Long.toString(localNow);
  }

  private void bind(PreparedStatement ps, int first) throws SQLException {
    ps.setString(first, cluster);
    ps.setString(first + 1, name);
    ps.setString(first + 2, owner);
    ps.setLong(first + 3, epoch);
  }
}
