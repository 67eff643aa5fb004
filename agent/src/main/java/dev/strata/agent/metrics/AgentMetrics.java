package dev.strata.agent.metrics;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.capture.CaptureStats;
import dev.strata.agent.upload.ReplicaStats;
import dev.strata.agent.upload.ReplicaUploader;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Prometheus metrics of a running agent, served on {@code /metrics} at the configured {@code addr} (the same server
 * answers the HTTP control endpoint, see {@link dev.strata.agent.control.HttpControl}). Values are read
 * from the databases' counters when scraped; nothing is computed between scrapes.
 *
 * <p>Per database ({@code db} label): local TXID, WAL size, bytes waiting in the local store, commits captured,
 * checkpoints, snapshots, capture errors. Per replica ({@code db}, {@code replica}): replicated TXID, seconds since
 * the last successful upload, bytes and files uploaded, errors.
 */
public final class AgentMetrics implements AutoCloseable {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Supplier<List<DatabaseMonitor>> monitors;
  private final long startMillis = System.currentTimeMillis();
  private HTTPServer server;

  public AgentMetrics(Supplier<List<DatabaseMonitor>> monitors) {
    this.monitors = monitors;
    dbGauge("strata_db_txid", "Last TXID captured locally", c -> c.txid());
    dbGauge("strata_db_wal_bytes", "Size of the WAL file", c -> c.walBytes());
    GaugeWithCallback.builder().name("strata_db_local_bytes").help("Bytes of LTX files waiting for a replica")
        .labelNames("db").callback(cb -> {
          for (DatabaseMonitor m : monitors.get()) cb.call(m.capture().store().bytes(), m.spec().name());
        }).register(registry);
    GaugeWithCallback.builder().name("strata_db_replicated_txid")
        .help("Highest TXID durable on every replica (what strata sync --wait waits for; -1 while unknown)")
        .labelNames("db").callback(cb -> {
          for (DatabaseMonitor m : monitors.get()) {
            long min = Long.MAX_VALUE;
            for (var u : m.uploaders()) min = Math.min(min, u.txid());
            if (min != Long.MAX_VALUE) cb.call(min, m.spec().name());
          }
        }).register(registry);
    GaugeWithCallback.builder().name("strata_last_verified_timestamp_seconds")
        .help("When the last successful restore drill of the replica finished (verify-interval)")
        .labelNames("db", "replica").callback(cb -> {
          for (DatabaseMonitor m : monitors.get()) {
            m.lastGoodDrills().forEach((r, d) -> cb.call(d.finishedMillis() / 1000.0, m.spec().name(), r));
          }
        }).register(registry);
    GaugeWithCallback.builder().name("strata_verify_duration_seconds")
        .help("How long the last restore drill of the replica took").labelNames("db", "replica").callback(cb -> {
          for (DatabaseMonitor m : monitors.get()) {
            m.lastDrills().forEach((r, d) -> cb.call(d.millis() / 1000.0, m.spec().name(), r));
          }
        }).register(registry);
    GaugeWithCallback.builder().name("strata_verify_ok")
        .help("1 when the last restore drill of the replica passed, 0 when it failed").labelNames("db", "replica")
        .callback(cb -> {
          for (DatabaseMonitor m : monitors.get()) {
            m.lastDrills().forEach((r, d) -> cb.call(d.ok() ? 1 : 0, m.spec().name(), r));
          }
        }).register(registry);
    dbCounter("strata_db_commits", "SQLite commits captured", CaptureStats::commits);
    dbCounter("strata_db_checkpoints", "Checkpoints run", CaptureStats::checkpoints);
    dbCounter("strata_db_snapshots", "Snapshots written", CaptureStats::snapshots);
    dbCounter("strata_db_errors", "Capture passes that failed", CaptureStats::errors);
    dbCounter("strata_db_write_lock_seconds", "Time checkpoints held SQLite's write lock",
        CaptureStats::writeLockSeconds);
    dbGauge("strata_db_wal_frames_max", "Most frames the WAL held before a restart, since start",
        CaptureStats::walFramesMax);
    dbGauge("strata_db_write_lock_max_seconds", "Longest a checkpoint held SQLite's write lock",
        CaptureStats::writeLockMaxSeconds);
    replicaGauge("strata_replica_txid", "Last TXID on the replica (-1 while unknown)", s -> s.txid());
    replicaGauge("strata_replica_seconds_since_upload",
        "Seconds since the last successful upload (since start when none yet)", s -> {
          long last = s.lastSuccessMillis() != 0 ? s.lastSuccessMillis() : startMillis;
          return (System.currentTimeMillis() - last) / 1000.0;
        });
    replicaCounter("strata_replica_upload_bytes", "Bytes uploaded", s -> s.bytes());
    replicaCounter("strata_replica_upload_files", "Files uploaded", s -> s.files());
    replicaCounter("strata_replica_errors", "Failed replica requests", s -> s.errors());
  }

  /** The registry holding the metrics. */
  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Starts serving {@code /metrics} on {@code addr} ({@code :9090}, {@code 127.0.0.1:9090}), and every other path
   * with {@code others} (the HTTP control endpoint: {@code POST /sync}, {@code GET /status}). Requests run on
   * virtual threads: a {@code POST /sync?wait=true} may wait for seconds, and must not hold up a scrape.
   */
  public void serve(String addr, HttpHandler others) throws IOException {
    int colon = addr.lastIndexOf(':');
    int port;
    try {
      port = Integer.parseInt(addr.substring(colon + 1));
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("invalid metrics address \"" + addr + "\" (want host:port or :port)");
    }
    String host = colon <= 0 ? null : addr.substring(0, colon);
    HTTPServer.Builder b = HTTPServer.builder().port(port).registry(registry).defaultHandler(others)
        .executorService(Executors.newVirtualThreadPerTaskExecutor());
    if (host != null) b.hostname(host);
    try {
      server = b.buildAndStart();
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + addr + ": " + e.getMessage(), e);
    }
  }

  /** The port metrics are served on. */
  public int port() {
    return server.getPort();
  }

  private void dbGauge(String name, String help, ToDoubleFunction<CaptureStats> f) {
    GaugeWithCallback.builder().name(name).help(help).labelNames("db").callback(cb -> {
      for (DatabaseMonitor m : monitors.get()) cb.call(f.applyAsDouble(m.capture().stats()), m.spec().name());
    }).register(registry);
  }

  private void dbCounter(String name, String help, ToDoubleFunction<CaptureStats> f) {
    CounterWithCallback.builder().name(name).help(help).labelNames("db").callback(cb -> {
      for (DatabaseMonitor m : monitors.get()) cb.call(f.applyAsDouble(m.capture().stats()), m.spec().name());
    }).register(registry);
  }

  private void replicaGauge(String name, String help, ToDoubleFunction<ReplicaStats> f) {
    GaugeWithCallback.builder().name(name).help(help).labelNames("db", "replica")
        .callback(cb -> eachReplica((m, u) -> cb.call(f.applyAsDouble(u.stats()), m.spec().name(), u.name())))
        .register(registry);
  }

  private void replicaCounter(String name, String help, ToDoubleFunction<ReplicaStats> f) {
    CounterWithCallback.builder().name(name).help(help).labelNames("db", "replica")
        .callback(cb -> eachReplica((m, u) -> cb.call(f.applyAsDouble(u.stats()), m.spec().name(), u.name())))
        .register(registry);
  }

  private void eachReplica(BiConsumer<DatabaseMonitor, ReplicaUploader> f) {
    for (DatabaseMonitor m : monitors.get()) for (ReplicaUploader u : m.uploaders()) f.accept(m, u);
  }

  @Override
  public void close() {
    if (server != null) server.close();
  }
}
