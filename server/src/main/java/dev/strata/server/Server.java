package dev.strata.server;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelConfig;
import dev.strata.server.compaction.CompactionJobs;
import dev.strata.server.compaction.CompactionScheduler;
import dev.strata.server.compaction.DbLocks;
import dev.strata.server.compaction.JobLeases;
import dev.strata.server.http.HttpApi;
import dev.strata.server.store.MetadataStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code strata serve}: a LiteFS-compatible backup server with the litefs-backup control plane. Owns the
 * metadata store, the storage client, the compaction loops and the HTTP listener; {@link #close} stops them in
 * reverse order.
 */
public final class Server implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Server.class);

  private final ServerConfig config;
  private final DataDirLock dataLock;
  private final MetadataStore store;
  private final ReplicaClient storage;
  private final ServerMetrics metrics = new ServerMetrics();
  private final CompactionJobs jobs;
  private final BackupService service;
  private final CompactionScheduler scheduler;
  private final HttpApi api;

  private Server(ServerConfig config, ReplicaClient given) throws IOException {
    this.config = config;
    Path data = config.dataDir().toAbsolutePath();
    Files.createDirectories(data);
    this.dataLock = DataDirLock.take(data);
    Path tmp = data.resolve("tmp");
    MetadataStore opened = null;
    ReplicaClient s = null;
    try {
      wipe(tmp);
      Files.createDirectories(tmp);
      opened = MetadataStore.open(config.metadataUrl(), data);
      this.store = opened;
      s = given != null ? given : config.replicaUrl() == null ? embeddedStorage(data, config.age())
          : openReplica(config.replicaUrl(), config.age());
      this.storage = s;
      DbLocks locks = new DbLocks();
      this.jobs = new CompactionJobs(store, storage, config.levels(), tmp, config.clock(), metrics, locks,
          new JobLeases(store));
      this.service = new BackupService(store, jobs, tmp, config.clock(), metrics, locks);
      metrics.lagSource(service::lags);
      if (config.importLfsb() != null) {
        int adopted = LfsbImport.adopt(config.importLfsb(), store);
        log.info("--import-lfsb: adopted {} database(s) from {}", adopted,
            LfsbImport.metadataFile(config.importLfsb()));
      }
      jobs.sweepDeletedDatabases();
      jobs.catalogueOlderDatabases();
      this.scheduler = new CompactionScheduler(store, jobs, config.levels(), config.clock(),
          config.compactionThreads());
      this.api = new HttpApi(service, store, config.tokens(), metrics, config.bind(),
          config.tls() == null ? null : TlsContext.load(config.tls()), config.stallTimeout());
    } catch (IOException | RuntimeException e) {
      if (opened != null) opened.close();
      if (s != null) s.close();
      dataLock.close();
      throw e;
    }
  }

  /** Opens the store and storage, binds the listener and starts serving and compacting. */
  public static Server start(ServerConfig config) throws IOException {
    return start(config, null);
  }

  /** Starts with a storage client made by the caller (it is closed with the server); null to use the config's. */
  public static Server start(ServerConfig config, ReplicaClient storage) throws IOException {
    Server s = new Server(config, storage);
    try {
      s.api.start();
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    if (config.schedule()) s.scheduler.start();
    s.logStart();
    return s;
  }

  /**
   * Opens the storage URL. Whatever fails, the message shows the URL only redacted ({@link ReplicaUrl#redact}), and
   * the original exception is not kept as the cause, whose message could show it whole.
   */
  private static ReplicaClient openReplica(String url, AgeKeys age) {
    try {
      return ReplicaUrl.open(url, age);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("storage: " + ReplicaUrl.redact(String.valueOf(e.getMessage())));
    }
  }

  /** {@code <data>/objects}, encrypted when keys are given. */
  private static ReplicaClient embeddedStorage(Path data, AgeKeys age) {
    ReplicaClient files = new FileReplicaClient(data.resolve("objects"));
    return age.isEmpty() ? files : AgeReplicaClient.wrap(files, age.validate());
  }

  private void logStart() {
    LevelConfig l = config.levels();
    for (Level c : l.levels()) {
      log.info("compaction level {}: interval={} retention={}", c.number(), GoDuration.format(c.interval()),
          GoDuration.format(c.retention()));
    }
    log.info("snapshot level {}: interval={} retention={}", Level.SNAPSHOT, GoDuration.format(l.snapshotInterval()),
        GoDuration.format(l.snapshotRetention()));
    log.info("storage: {}{}", storage.location(), storage instanceof AgeReplicaClient ? " (age-encrypted)" : "");
    log.info("metadata: {}", store.describe());
    if (config.tokens().enabled()) {
      log.info("authentication: on, tokens for {} clusters", config.tokens().size());
    } else {
      log.info("authentication: off: any client that names a cluster can read and write it (--tokens-file or "
          + "STRATA_TOKENS turns it on)");
    }
    log.info("listening on {}://{}", config.tls() == null ? "http" : "https", addressText());
  }

  private String addressText() {
    InetSocketAddress a = api.address();
    return a.getHostString() + ":" + a.getPort();
  }

  /** The bound address (useful with port 0). */
  public InetSocketAddress address() {
    return api.address();
  }

  /** {@code http://127.0.0.1:PORT} (or https) for clients on this machine. */
  public String localUrl() {
    return (config.tls() == null ? "http" : "https") + "://127.0.0.1:" + api.address().getPort();
  }

  /** The operations behind the API. */
  public BackupService service() {
    return service;
  }

  /** The compaction loops; tests call {@link CompactionScheduler#runLevel} directly. */
  public CompactionScheduler scheduler() {
    return scheduler;
  }

  /** The per-database storage jobs (flush, compaction, snapshots, retention). */
  public CompactionJobs jobs() {
    return jobs;
  }

  /** The metadata store. */
  public MetadataStore store() {
    return store;
  }

  /** The storage root. */
  public ReplicaClient storage() {
    return storage;
  }

  /** The metrics. */
  public ServerMetrics metrics() {
    return metrics;
  }

  /** Stops accepting requests (waiting briefly for those in flight), the loops, then the store. */
  @Override
  public void close() throws IOException {
    api.close();
    scheduler.close();
    store.close();
    storage.close();
    dataLock.close();
  }

  private static void wipe(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
