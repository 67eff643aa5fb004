package dev.strata.server.compaction;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.store.Lease;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.SqlJob;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's side of the {@link Lease}s: one owner name per process, leases taken for a job and renewed in the
 * background while it runs, then released. A killed instance's leases expire after {@link #TTL}, and the next
 * tick of another instance's scheduler takes its jobs over.
 */
public final class JobLeases {
  private static final Logger log = LoggerFactory.getLogger(JobLeases.class);

  /** How long a lease lasts without renewal; it is renewed every quarter of that. */
  public static final Duration TTL = Duration.ofSeconds(10);

  private final MetadataStore store;
  /** This process's clock: lease times on the embedded store (PostgreSQL keeps them on its own clock). */
  private final InstantSource clock;
  private final String owner;
  /** The epoch of each database's lease this instance held last, to notice when another instance held it since. */
  private final ConcurrentHashMap<String, Long> lastEpochs = new ConcurrentHashMap<>();

  public JobLeases(MetadataStore store) {
    this(store, InstantSource.system());
  }

  public JobLeases(MetadataStore store, InstantSource clock) {
    this.store = store;
    this.clock = clock;
    this.owner = ownerName();
  }

  /** This instance's name in the leases table: host, pid and a random part (a restarted process is a new owner). */
  public String owner() {
    return owner;
  }

  /** A lease being held; closing it stops the renewals and releases it. */
  public final class Held implements AutoCloseable {
    private final Lease lease;
    private final boolean continuous;
    /** Counted down when the job ends: wakes the renewer without an interrupt (an exception per job). */
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean released;

    private Held(Lease lease, boolean continuous) {
      this.lease = lease;
      this.continuous = continuous;
      Thread.ofVirtual().name("strata-lease-" + lease.cluster() + "/" + lease.name()).start(this::renew);
    }

    public Lease lease() {
      return lease;
    }

    /**
     * False when another instance held this database's lease since this instance last did: whatever this instance
     * remembers of its storage may be out of date.
     */
    public boolean continuous() {
      return continuous;
    }

    private void renew() {
      long every = TTL.toMillis() / 4;
      while (true) {
        try {
          if (closed.await(every, TimeUnit.MILLISECONDS)) return;
        } catch (InterruptedException e) {
          return;
        }
        try {
          if (!store.write(c -> lease.renew(c, clock.millis(), TTL.toMillis()))) {
            log.warn("lease on {}/{} was taken over; the job's commits will be refused", lease.cluster(),
                lease.name());
            return;
          }
        } catch (IOException | RuntimeException e) {
          log.debug("renewing lease on {}/{}: {}", lease.cluster(), lease.name(), e.getMessage());
        }
      }
    }

    /**
     * Ends the job: {@code last} (its final metadata writes) and the release of the lease in one transaction, which
     * commits only if the lease is still this one. When that fails, nothing of {@code last} is committed and the
     * lease expires by itself.
     */
    public void closeWith(SqlJob<Void> last) throws IOException {
      closed.countDown();
      store.write(c -> {
        last.run(c);
        lease.finish(c);
        return null;
      });
      released = true;
    }

    /**
     * Ends the job inside the caller's transaction, which records several jobs at once: false when the lease was
     * taken over (the caller leaves this job's writes out). Once that transaction commits, {@link #finished} says so.
     */
    public boolean finishIn(Connection c) throws SQLException {
      closed.countDown();
      return lease.tryFinish(c);
    }

    /** The transaction that ran {@link #finishIn} committed: the lease is released. */
    public void finished() {
      released = true;
    }

    @Override
    public void close() {
      closed.countDown();
      if (released) return;
      try {
        store.write(c -> {
          lease.release(c);
          return null;
        });
      } catch (IOException | RuntimeException e) {
        log.debug("releasing lease on {}/{}: {} (it expires by itself)", lease.cluster(), lease.name(),
            e.getMessage());
      }
    }
  }

  /** Takes the lease of {@code cluster/name} if no other instance holds it; null if one does. */
  public Held tryAcquire(String cluster, String name) throws IOException {
    return tryAcquire(cluster, name, c -> true);
  }

  /**
   * Takes the lease of {@code cluster/name} if no other instance holds it and {@code precondition} holds, read in the
   * same transaction (one round trip to the metadata less than reading it apart); null otherwise.
   */
  public Held tryAcquire(String cluster, String name, SqlJob<Boolean> precondition) throws IOException {
    Lease lease = store.write(c -> precondition.run(c)
        ? Lease.acquire(c, cluster, name, owner, clock.millis(), TTL.toMillis()) : null);
    return lease == null ? null : hold(lease);
  }

  /** A lease {@link #tryAcquireAll} is to take when {@code precondition} holds. */
  public record Wanted(String cluster, String name, SqlJob<Boolean> precondition) {}

  /**
   * Takes several databases' leases in one transaction, each as {@link #tryAcquire} would, in the order given
   * (callers sort by name, so that two instances taking overlapping sets lock the rows in the same order); the list
   * holds null where a lease was not taken.
   */
  public List<Held> tryAcquireAll(List<Wanted> wanted) throws IOException {
    List<Lease> taken = store.write(c -> {
      List<Lease> out = new ArrayList<>(wanted.size());
      for (Wanted w : wanted) {
        out.add(w.precondition().run(c)
            ? Lease.acquire(c, w.cluster(), w.name(), owner, clock.millis(), TTL.toMillis()) : null);
      }
      return out;
    });
    List<Held> held = new ArrayList<>(taken.size());
    for (Lease lease : taken) held.add(lease == null ? null : hold(lease));
    return held;
  }

  private Held hold(Lease lease) {
    Long before = lastEpochs.put(lease.cluster() + "/" + lease.name(), lease.epoch());
    return new Held(lease, before != null && before + 1 == lease.epoch());
  }

  /**
   * Takes the lease of {@code cluster/name}, waiting for another instance's job to end (at most two lease lengths,
   * then {@code EUNAVAILABLE}).
   */
  public Held acquire(String cluster, String name) throws IOException {
    long deadline = System.nanoTime() + 2 * TTL.toNanos();
    while (true) {
      Held h = tryAcquire(cluster, name);
      if (h != null) return h;
      if (System.nanoTime() > deadline) {
        throw new ApiException(ErrorCode.EUNAVAILABLE, "database " + cluster + "/" + name
            + " is busy with a job on another instance; try again");
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for the lease on " + cluster + "/" + name);
      }
    }
  }

  private static String ownerName() {
    String host = System.getenv().getOrDefault("HOSTNAME", "");
    return (host.isEmpty() ? "host" : host) + "/" + ProcessHandle.current().pid() + "/" + UUID.randomUUID().toString().substring(0, 8);
  }
}
