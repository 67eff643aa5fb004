package dev.strata.server.compaction;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per database for work on its storage objects (flush, compaction, snapshot, deletion), so that two of
 * them never interleave. Uploads to level 0 do not take it.
 */
public final class DbLocks {
  private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /** The lock of {@code cluster/name}. */
  public ReentrantLock of(String cluster, String name) {
    return locks.computeIfAbsent(cluster + "/" + name, k -> new ReentrantLock());
  }
}
