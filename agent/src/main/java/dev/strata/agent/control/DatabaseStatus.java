package dev.strata.agent.control;

import java.util.List;

/**
 * What {@code strata status} and {@code GET /status} show of one database. TXIDs are -1 while unknown, times are
 * epoch milliseconds and 0 for never.
 *
 * @param db the database's path
 * @param txid the last TXID captured locally
 */
public record DatabaseStatus(String db, long txid, List<Replica> replicas, List<Drill> drills) {

  /**
   * One replica.
   *
   * @param lag how many TXIDs it is behind the database; -1 while unknown
   * @param lastError the message of its last failed request (secrets masked); null if none
   */
  public record Replica(String name, long txid, long lag, long errors, long lastUploadMillis, String lastError,
      long lastErrorMillis) {}

  /** The last restore drill of a replica ({@code verify-interval}); {@code txid} 0 when nothing was restored. */
  public record Drill(String replica, boolean ok, long finishedMillis, long txid, String error) {}
}
