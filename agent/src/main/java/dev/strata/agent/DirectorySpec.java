package dev.strata.agent;

import dev.strata.agent.capture.CaptureOptions;
import dev.strata.replica.level.LevelConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A {@code dir:} entry: every SQLite database in {@code dir} whose file name matches {@code pattern} (a glob, all
 * files when null), in subdirectories too when {@code recursive}, replicated with the same settings. Each gets the
 * replica URLs with its path relative to {@code dir} appended.
 *
 * @param metaDir where the databases' meta directories go (mirroring their relative paths); next to each database
 *     when null
 */
public record DirectorySpec(
    Path dir,
    String pattern,
    boolean recursive,
    Path metaDir,
    List<ReplicaSpec> replicas,
    Duration syncInterval,
    CaptureOptions capture,
    LevelConfig levels,
    Duration retryMax,
    Duration shutdownTimeout) {

  /**
   * Refuses a directory replica that holds the directory, and so the databases it would back up (see
   * {@link DatabaseSpec#checkReplicaDirectory}; each database found is checked again when it is opened).
   */
  public void checkReplicaDirectory(ReplicaSpec replica, Path replicaDir) {
    if (DatabaseSpec.realPath(dir).startsWith(DatabaseSpec.realPath(replicaDir))) {
      throw new IllegalArgumentException("directory " + dir + ": replica " + replica.name() + " (" + replicaDir
          + ") contains the databases; give the replicas a directory of their own");
    }
  }

  /** The settings for the database at {@code db}, a file under {@link #dir()}. */
  public DatabaseSpec specFor(Path db) {
    Path abs = db.toAbsolutePath().normalize();
    String rel = dir.toAbsolutePath().normalize().relativize(abs).toString();
    Path meta = metaDir == null ? DatabaseSpec.defaultMeta(abs)
        : metaDir.resolve(rel).resolveSibling("." + abs.getFileName() + "-strata");
    List<ReplicaSpec> r = replicas.stream().map(s -> s.child(rel)).toList();
    return new DatabaseSpec(abs.toString(), abs, meta, r, syncInterval, capture, levels, retryMax, shutdownTimeout);
  }
}
