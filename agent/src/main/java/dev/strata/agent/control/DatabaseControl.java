package dev.strata.agent.control;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.upload.ReplicaUploader;
import dev.strata.replica.ReplicaUrl;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The one implementation of sync and status behind both front doors of the control endpoint: the Unix socket
 * ({@link ControlServer}, for {@code strata sync} and {@code strata status}) and HTTP on {@code addr:}
 * ({@link HttpControl}). Each front door only parses its requests and formats these answers.
 */
public final class DatabaseControl {
  private DatabaseControl() {}

  /**
   * What a sync request did.
   *
   * @param txid the TXID durable on the replicas asked for; -1 when the request did not wait
   * @param replicas each replica's TXID once durable (-1 while unknown); empty when the request did not wait
   */
  public record Synced(String db, long txid, Map<String, Long> replicas) {}

  /**
   * Without {@code await}: asks for a sync pass now and returns. With it: waits until every commit made before the
   * call is durable on the replicas asked for, asking for a pass first only with {@code now}. Throws
   * {@link TimeoutException} with a one-line message naming the replicas behind.
   */
  public static Synced sync(DatabaseMonitor m, SyncRequest request) throws TimeoutException, InterruptedException {
    String db = m.spec().path().toString();
    if (!request.await()) {
      m.requestSync();
      return new Synced(db, -1, Map.of());
    }
    long txid = m.awaitDurable(request.replicas(), request.timeout(), request.now());
    Map<String, Long> replicas = new LinkedHashMap<>();
    for (ReplicaUploader u : m.uploaders()) replicas.put(u.name(), u.txid());
    return new Synced(db, txid, replicas);
  }

  /** The database's TXID, each replica's TXID, lag and errors, and the last restore drills. */
  public static DatabaseStatus status(DatabaseMonitor m) {
    long txid = m.capture().txid();
    List<DatabaseStatus.Replica> replicas = new ArrayList<>();
    for (ReplicaUploader u : m.uploaders()) {
      long r = u.txid();
      var stats = u.stats();
      String error = stats.lastError() == null ? null : ReplicaUrl.redact(stats.lastError());
      replicas.add(new DatabaseStatus.Replica(u.name(), r, r < 0 ? -1 : Math.max(0, txid - r), stats.errors(),
          stats.lastSuccessMillis(), error, stats.lastErrorMillis()));
    }
    List<DatabaseStatus.Drill> drills = new ArrayList<>();
    m.lastDrills().forEach((replica, d) -> drills.add(new DatabaseStatus.Drill(replica, d.ok(), d.finishedMillis(),
        d.txid(), d.error() == null ? null : d.error().replace('\n', ' '))));
    return new DatabaseStatus(m.spec().path().toString(), txid, replicas, drills);
  }
}
