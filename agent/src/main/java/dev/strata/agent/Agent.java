package dev.strata.agent;

import dev.strata.agent.capture.WalCapture;
import dev.strata.agent.upload.ReplicaUpkeep;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates many databases: the ones listed, and the ones found under {@code dir:} entries, which are rescanned
 * every few seconds so that new databases are picked up. A database whose start fails (a replica unreachable on
 * first start, say) is logged and retried on the next scan; the others carry on.
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  private static final Duration SCAN_INTERVAL = Duration.ofSeconds(5);
  private static final byte[] SQLITE_MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private final List<DatabaseSpec> databases;
  private final List<DirectorySpec> directories;
  private final ReplicaUpkeep.Factory upkeep;
  private final Map<Path, DatabaseMonitor> running = new ConcurrentHashMap<>();
  private final Set<Path> refused = ConcurrentHashMap.newKeySet();
  private final CountDownLatch stop = new CountDownLatch(1);
  private Thread scanner;

  public Agent(List<DatabaseSpec> databases, List<DirectorySpec> directories, ReplicaUpkeep.Factory upkeep) {
    this.databases = List.copyOf(databases);
    this.directories = List.copyOf(directories);
    this.upkeep = upkeep;
  }

  /**
   * Checks every database, replica URL and directory without writing anything: bad input fails here, before
   * anything is started. Throws {@link IllegalArgumentException} with a one-line message.
   */
  public static void validate(List<DatabaseSpec> databases, List<DirectorySpec> directories) throws IOException {
    Map<Path, String> replicaAt = new HashMap<>(); // a directory replica's real path -> which replica it is
    for (DatabaseSpec d : databases) {
      for (ReplicaSpec r : d.replicas()) {
        Path where = checkUrl(r, replicaDir -> d.checkReplicaDirectory(r, replicaDir));
        String other = where == null ? null : replicaAt.putIfAbsent(where, r.name() + " of " + d.name());
        if (other != null) { // two writers of one chain would overwrite each other's files
          throw new IllegalArgumentException(d.name() + ": replica " + r.name() + " (" + where + ") is where "
              + "replica " + other + " is; each replica needs a place of its own");
        }
      }
      WalCapture.check(d.path(), d.capture());
    }
    for (DirectorySpec d : directories) {
      for (ReplicaSpec r : d.replicas()) checkUrl(r, replicaDir -> d.checkReplicaDirectory(r, replicaDir));
      if (!Files.isDirectory(d.dir())) throw new IllegalArgumentException("directory " + d.dir() + " does not exist");
    }
  }

  /**
   * Opens a replica's client, which parses its URL and sends nothing, and checks where a directory replica is.
   * Returns that directory's real path; null for other replicas (an S3 location does not name its endpoint, so
   * equal ones may be different places).
   */
  private static Path checkUrl(ReplicaSpec r, Consumer<Path> checkReplicaDirectory) {
    try (ReplicaClient c = ReplicaUrl.open(r.url())) {
      if (!(dev.strata.replica.age.AgeReplicaClient.unwrap(c) instanceof FileReplicaClient f)) return null;
      checkReplicaDirectory.accept(f.root());
      return DatabaseSpec.realPath(f.root());
    } catch (IOException e) {
      // by name: the URL may hold a password
      throw new IllegalArgumentException("replica " + r.name() + ": " + e.getMessage());
    }
  }

  /**
   * Opens every listed database (a database another Strata process replicates fails here) and starts them in the
   * background, with the directory scanner. Databases under {@code dir:} entries are found and started by the
   * scanner; their failures are logged.
   */
  public void start() throws IOException {
    List<DatabaseMonitor> opened = new ArrayList<>();
    try {
      for (DatabaseSpec d : databases) opened.add(DatabaseMonitor.open(d, upkeep));
    } catch (IOException | RuntimeException e) {
      for (DatabaseMonitor m : opened) m.close();
      throw e;
    }
    for (DatabaseMonitor m : opened) {
      running.put(m.spec().path(), m);
      Thread.ofVirtual().name("strata-start-" + m.spec().name()).start(() -> startMonitor(m));
    }
    scanner = Thread.ofPlatform().name("strata-scan").daemon().start(this::scanLoop);
  }

  /** The databases being replicated. */
  public List<DatabaseMonitor> monitors() {
    return List.copyOf(running.values());
  }

  private void startDatabase(DatabaseSpec spec) {
    if (running.containsKey(spec.path()) || stop.getCount() == 0) return;
    DatabaseMonitor m;
    try {
      m = DatabaseMonitor.open(spec, upkeep);
    } catch (IOException | RuntimeException e) {
      if (refused.add(spec.path())) {
        log.error("{}: cannot replicate: {} (retrying every {}s)", spec.name(), e.getMessage(),
            SCAN_INTERVAL.toSeconds());
      }
      return;
    }
    running.put(spec.path(), m);
    startMonitor(m);
  }

  private void startMonitor(DatabaseMonitor m) {
    DatabaseSpec spec = m.spec();
    try {
      m.start();
      refused.remove(spec.path());
      log.info("{}: replicating to {}", spec.name(), spec.replicas().stream().map(ReplicaSpec::name).toList());
    } catch (IOException | RuntimeException e) {
      running.remove(spec.path(), m);
      m.close();
      if (refused.add(spec.path())) {
        log.error("{}: cannot replicate: {} (retrying every {}s)", spec.name(), e.getMessage(),
            SCAN_INTERVAL.toSeconds());
      }
    }
  }

  private void scanLoop() {
    try {
      while (!stop.await(SCAN_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
        for (DatabaseSpec d : databases) if (!running.containsKey(d.path())) startDatabase(d);
        for (DirectorySpec d : directories) {
          for (Path db : scan(d)) if (!running.containsKey(db)) startDatabase(d.specFor(db));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The SQLite databases under a directory entry, skipping WAL, shm and journal files and hidden files. */
  List<Path> scan(DirectorySpec d) {
    PathMatcher glob = d.pattern() == null ? p -> true
        : FileSystems.getDefault().getPathMatcher("glob:" + d.pattern());
    List<Path> out = new ArrayList<>();
    try (Stream<Path> files = d.recursive() ? Files.walk(d.dir()) : Files.list(d.dir())) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        Path abs = p.toAbsolutePath().normalize();
        String name = abs.getFileName().toString();
        if (name.startsWith(".") || name.endsWith("-wal") || name.endsWith("-shm") || name.endsWith("-journal")) {
          continue;
        }
        if (!glob.matches(abs.getFileName())) continue;
        if (running.containsKey(abs) || isSqlite(abs)) out.add(abs);
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      log.warn("scan {}: {}", d.dir(), e.getMessage());
    }
    return out;
  }

  /** True when the file starts with SQLite's magic (only called for files this process has no connection to). */
  private static boolean isSqlite(Path p) {
    try (InputStream in = Files.newInputStream(p)) {
      return Arrays.equals(in.readNBytes(SQLITE_MAGIC.length), SQLITE_MAGIC);
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops every database: a final capture pass each, and up to its shutdown timeout for uploads. */
  public void stop() {
    stop.countDown();
    if (scanner != null) {
      try {
        scanner.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Thread> stopping = new ArrayList<>();
    for (DatabaseMonitor m : running.values()) stopping.add(Thread.ofVirtual().start(m::stop));
    for (Thread t : stopping) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    if (stop.getCount() > 0) stop();
    Set<Path> paths = new HashSet<>(running.keySet());
    for (Path p : paths) {
      DatabaseMonitor m = running.remove(p);
      if (m != null) m.close();
    }
  }
}
