package dev.strata.replica;

import dev.strata.replica.file.FileReplicaClient;
import java.net.URI;
import java.nio.file.Path;

/** Replica URLs as Litestream reads them: a plain path or {@code file:///path}; other schemes follow. */
public final class ReplicaUrl {
  private ReplicaUrl() {}

  /** Opens the replica a URL names; a bad URL is an {@link IllegalArgumentException} with a one-line message. */
  public static ReplicaClient open(String url) {
    if (url == null || url.isBlank()) throw new IllegalArgumentException("replica URL required");
    int colon = url.indexOf("://");
    if (colon < 0) return new FileReplicaClient(Path.of(url));
    String scheme = url.substring(0, colon);
    return switch (scheme) {
      case "file" -> new FileReplicaClient(Path.of(URI.create(url).getPath()));
      default -> throw new IllegalArgumentException("unknown replica URL scheme \"" + scheme + "\" in " + url
          + " (want a path, file://, s3:// or sftp://)");
    };
  }
}
