package dev.strata.agent;

/**
 * One replica of a database: a name for logs and metrics, and the URL {@link dev.strata.replica.ReplicaUrl#open}
 * understands (a path, {@code file://}, {@code s3://…}, {@code sftp://…}).
 */
public record ReplicaSpec(String name, String url) {}
