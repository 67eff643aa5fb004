package dev.strata.server;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Path;

/** S3Proxy in this JVM (on loopback) and a client for one prefix of its bucket, for the S3 variants of tests. */
final class S3Storage implements AutoCloseable {
  private final S3ProxyServer proxy;

  S3Storage(Path dir) throws Exception {
    proxy = S3ProxyServer.start(dir);
  }

  /** A client for {@code prefix}; the server closes it. */
  ReplicaClient client(String prefix) {
    return ReplicaUrl.open(proxy.url(prefix));
  }

  @Override
  public void close() throws IOException {
    proxy.close();
  }
}
