package dev.strata.agent;

import dev.strata.agent.capture.CaptureOptions;
import dev.strata.replica.level.LevelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything needed to replicate one database.
 *
 * @param meta the local meta directory (default {@code <dir>/.<file>-strata})
 * @param syncInterval how often the WAL is captured; files are uploaded as soon as they are captured
 * @param retryMax the longest wait between retries of a failing replica
 * @param shutdownTimeout how long a stop waits for replicas to take the last files
 * @param verifyInterval how often to run a restore drill of every replica; null for never
 * @param controlSocket where {@code strata sync} and {@code strata status} reach the running agent (default
 *     {@code .<file>-strata.sock} beside the database); null when turned off ({@code control: off})
 */
public record DatabaseSpec(
    String name,
    Path path,
    Path meta,
    List<ReplicaSpec> replicas,
    Duration syncInterval,
    CaptureOptions capture,
    LevelConfig levels,
    Duration retryMax,
    Duration shutdownTimeout,
    Duration verifyInterval,
    Path controlSocket) {

  /** Without restore drills ({@code verify-interval} not set), with the default control socket. */
  public DatabaseSpec(String name, Path path, Path meta, List<ReplicaSpec> replicas, Duration syncInterval,
      CaptureOptions capture, LevelConfig levels, Duration retryMax, Duration shutdownTimeout) {
    this(name, path, meta, replicas, syncInterval, capture, levels, retryMax, shutdownTimeout, null,
        defaultControlSocket(path));
  }

  /** The same database with restore drills every {@code interval} (null: none). */
  public DatabaseSpec withVerifyInterval(Duration interval) {
    return new DatabaseSpec(name, path, meta, replicas, syncInterval, capture, levels, retryMax, shutdownTimeout,
        interval, controlSocket);
  }

  /** The same database with its control socket at {@code socket} (null: none). */
  public DatabaseSpec withControlSocket(Path socket) {
    return new DatabaseSpec(name, path, meta, replicas, syncInterval, capture, levels, retryMax, shutdownTimeout,
        verifyInterval, socket);
  }

  /**
   * The default control socket of a database: {@code .<file>-strata.sock} beside its meta directory, so that
   * {@code strata sync DB} finds it from the database path alone.
   */
  public static Path defaultControlSocket(Path db) {
    Path abs = db.toAbsolutePath().normalize();
    return abs.resolveSibling("." + abs.getFileName() + "-strata.sock");
  }

  /** The default meta directory of a database: {@code .<file>-strata} next to it. */
  public static Path defaultMeta(Path db) {
    Path abs = db.toAbsolutePath().normalize();
    return abs.resolveSibling("." + abs.getFileName() + "-strata");
  }

  /** A database with defaults: 1 s sync, Litestream's checkpoint thresholds, 30 s retry cap and stop timeout. */
  public static DatabaseSpec of(Path db, List<ReplicaSpec> replicas) {
    return new DatabaseSpec(db.getFileName().toString(), db, defaultMeta(db), replicas, Duration.ofSeconds(1),
        CaptureOptions.defaults(), LevelConfig.defaults(), Duration.ofSeconds(30), Duration.ofSeconds(30));
  }

  /** The same database with another sync interval. */
  public DatabaseSpec withSyncInterval(Duration interval) {
    return new DatabaseSpec(name, path, meta, replicas, interval, capture, levels, retryMax, shutdownTimeout, verifyInterval,
        controlSocket);
  }

  /** The same database with other capture options. */
  public DatabaseSpec withCapture(CaptureOptions options) {
    return new DatabaseSpec(name, path, meta, replicas, syncInterval, options, levels, retryMax, shutdownTimeout, verifyInterval,
        controlSocket);
  }

  /** The same database with another retry cap. */
  public DatabaseSpec withRetryMax(Duration max) {
    return new DatabaseSpec(name, path, meta, replicas, syncInterval, capture, levels, max, shutdownTimeout, verifyInterval,
        controlSocket);
  }

  /**
   * Refuses a directory replica that overlaps the database: its file, -wal, -shm or -journal, a place inside its
   * meta directory, or a directory that holds the database. Replicating there could only fail, again and again.
   * Symbolic links are resolved first, so that another name for the same place is refused too.
   */
  public void checkReplicaDirectory(ReplicaSpec replica, Path replicaDir) {
    Path db = realPath(path), dir = realPath(replicaDir);
    String why = null;
    for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
      if (!dir.equals(db.resolveSibling(db.getFileName() + suffix))) continue;
      why = suffix.isEmpty() ? "is the database file itself" : "is the database's " + suffix + " file";
    }
    if (why == null && dir.startsWith(realPath(meta))) why = "is inside the database's meta directory " + meta;
    if (why == null && db.startsWith(dir)) why = "contains the database";
    if (why != null) {
      throw new IllegalArgumentException(name + ": replica " + replica.name() + " (" + replicaDir + ") " + why
          + "; give the replica a directory of its own");
    }
  }

  /** The absolute path with symbolic links resolved as far as it exists (a replica directory may not, yet). */
  static Path realPath(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    for (Path existing = abs; existing != null; existing = existing.getParent()) {
      try {
        return existing.toRealPath().resolve(existing.relativize(abs));
      } catch (IOException e) {
        // not there (or not readable): try its parent
      }
    }
    return abs;
  }
}
