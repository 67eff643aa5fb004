package dev.strata.agent;

import dev.strata.replica.level.LevelConfig;

/**
 * One replica of a database: a name for logs and metrics, the URL {@link dev.strata.replica.ReplicaUrl#open}
 * understands (a path, {@code file://}, {@code s3://…}, {@code sftp://…}), and its own compaction and retention
 * settings when they differ from the database's (null otherwise).
 */
public record ReplicaSpec(String name, String url, LevelConfig levels) {
  /** A replica with the database's level settings. */
  public ReplicaSpec(String name, String url) {
    this(name, url, null);
  }

  /**
   * The replica of a database found under a {@code dir:} entry: the same URL with the database's path relative to
   * the directory appended, so that every database gets its own prefix.
   */
  public ReplicaSpec child(String relativePath) {
    String rel = relativePath.replace('\\', '/');
    int scheme = url.indexOf("://");
    if (scheme < 0) return new ReplicaSpec(name, java.nio.file.Path.of(url).resolve(rel).toString(), levels);
    int q = url.indexOf('?');
    String base = q < 0 ? url : url.substring(0, q);
    String query = q < 0 ? "" : url.substring(q);
    String joined = base.endsWith("/") ? base + rel : base + "/" + rel;
    return new ReplicaSpec(name, joined + query, levels);
  }
}
