package dev.strata.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.function.Supplier;

/** The server's Prometheus metrics, in a registry of its own (several servers may share a JVM in tests). */
public final class ServerMetrics {
  /** One database's lag: TXIDs accepted but not yet durable in storage. */
  public record Lag(String cluster, String database, long txid, long hwm) {}

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter uploads;
  private final Counter uploadBytes;
  private final Counter posMismatches;
  private final Counter storageErrors;
  private final Histogram compactionSeconds;
  private final Histogram uploadSeconds;

  public ServerMetrics() {
    uploads = Counter.builder().name("strata_server_uploads_total")
        .help("LTX uploads on POST /db/tx by result (ok, conflict, rejected, error).")
        .labelNames("result").register(registry);
    uploadBytes = Counter.builder().name("strata_server_upload_bytes_total")
        .help("Bytes of LTX files accepted on POST /db/tx.").register(registry);
    posMismatches = Counter.builder().name("strata_server_position_mismatches_total")
        .help("Uploads refused because they did not start at the server's position.").register(registry);
    storageErrors = Counter.builder().name("strata_server_storage_errors_total")
        .help("Failed storage operations by kind (flush, compact, snapshot, delete, read).")
        .labelNames("op").register(registry);
    compactionSeconds = Histogram.builder().name("strata_server_compaction_seconds")
        .help("Duration of flushes (level 1), compactions and snapshots (level 9).")
        .labelNames("level").classicUpperBounds(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300).register(registry);
    uploadSeconds = Histogram.builder().name("strata_server_upload_seconds")
        .help("Time from the end of an upload's body to its durable commit.")
        .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1).register(registry);
  }

  /** Registers the per-database HWM lag gauge, computed at each scrape. */
  public void lagSource(Supplier<List<Lag>> source) {
    GaugeWithCallback.builder().name("strata_server_hwm_lag_txids")
        .help("Per database: newest accepted TXID minus the high-water mark (TXIDs not yet in storage).")
        .labelNames("cluster", "database")
        .callback(cb -> {
          for (Lag l : source.get()) cb.call(Math.max(0, l.txid() - l.hwm()), l.cluster(), l.database());
        })
        .register(registry);
  }

  public void upload(String result, long bytes, double seconds) {
    uploads.labelValues(result).inc();
    if (bytes > 0) uploadBytes.inc(bytes);
    if (seconds >= 0) uploadSeconds.observe(seconds);
  }

  public void positionMismatch() {
    posMismatches.inc();
  }

  public void storageError(String op) {
    storageErrors.labelValues(op).inc();
  }

  public void compaction(int level, double seconds) {
    compactionSeconds.labelValues(Integer.toString(level)).observe(seconds);
  }

  /** Content type of {@link #write}. */
  public String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  /** Writes the Prometheus text exposition. */
  public void write(OutputStream out) throws IOException {
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
  }
}
