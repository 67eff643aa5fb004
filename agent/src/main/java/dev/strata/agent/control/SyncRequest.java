package dev.strata.agent.control;

import dev.strata.agent.config.Durations;
import java.time.Duration;

/**
 * What {@code strata sync} and {@code POST /sync} ask of a running database.
 *
 * @param await wait until every commit made before the request is durable, instead of only asking for a pass
 * @param replicas how many replicas must hold those commits; 0 for all of them
 * @param timeout how long to wait at most
 * @param now with {@code await}: force a sync pass now instead of waiting for the next regular one
 */
public record SyncRequest(boolean await, int replicas, Duration timeout, boolean now) {
  public static final String ALL_REPLICAS = "all";
  public static final String DEFAULT_TIMEOUT = "10s";

  /**
   * The request from the text both front doors take: {@code replicas} is {@code all} or a number from 1,
   * {@code timeout} a duration ({@code 10s}, {@code 500ms}). Throws {@link IllegalArgumentException} with one line.
   */
  public static SyncRequest parse(boolean await, String replicas, String timeout, boolean now) {
    int n;
    try {
      n = replicas.equals(ALL_REPLICAS) ? 0 : Integer.parseInt(replicas);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0 || (n == 0 && !replicas.equals(ALL_REPLICAS))) {
      throw new IllegalArgumentException("replicas must be all or a positive number, not \"" + replicas + "\"");
    }
    Duration t;
    try {
      t = Durations.parse(timeout);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("timeout: " + e.getMessage());
    }
    return new SyncRequest(await, n, t, now);
  }
}
