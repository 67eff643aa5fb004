package dev.strata.agent.upload;

import dev.strata.agent.capture.LocalStore;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where every replica of one database is, so that the local store can drop the files all of them hold. A replica
 * whose position is not known yet keeps everything.
 */
public final class ReplicaProgress {
  private static final Logger log = LoggerFactory.getLogger(ReplicaProgress.class);

  private final LocalStore store;
  private final int replicas;
  private final Map<Object, Long> positions = new HashMap<>();
  private long deleted = -1;

  public ReplicaProgress(LocalStore store, int replicas) {
    this.store = store;
    this.replicas = replicas;
  }

  /** Records that {@code replica} holds every TXID up to {@code txid}, and deletes local files all replicas hold. */
  public synchronized void update(Object replica, long txid) {
    positions.put(replica, txid);
    if (positions.size() < replicas) return;
    long min = Long.MAX_VALUE;
    for (long t : positions.values()) if (Long.compareUnsigned(t, min) < 0) min = t;
    if (min == deleted) return;
    try {
      store.deleteThrough(min);
      deleted = min;
    } catch (IOException e) {
      log.warn("could not delete uploaded local files: {}", e.getMessage());
    }
  }
}
