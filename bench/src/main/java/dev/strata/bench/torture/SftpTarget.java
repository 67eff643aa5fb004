package dev.strata.bench.torture;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.SftpTestServer;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Random;
import java.util.Set;

/**
 * An SFTP server (MINA SSHD, key authentication, host key pinned in the URL) serving a directory of the work dir.
 * Its fault drops every open session, again and again at random moments, for a while. The harness's checks read
 * the served directory itself, which is what the server really stored.
 */
final class SftpTarget implements ReplicaTarget {
  private static final String PATH = "/app";
  private final SftpTestServer server;
  private final ReplicaClient client;
  private volatile Thread dropper;

  SftpTarget(Path root) throws IOException {
    try {
      this.server = SftpTestServer.start(root);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot start the SFTP server: " + e.getMessage(), e);
    }
    this.client = new FileReplicaClient(root.resolve(PATH.substring(1)));
  }

  @Override
  public String name() {
    return "sftp";
  }

  @Override
  public String agentUrl() {
    return server.url(PATH);
  }

  @Override
  public String restoreUrl() {
    return server.url(PATH);
  }

  @Override
  public ReplicaClient client() {
    return client;
  }

  @Override
  public Set<FaultKind> storageFaults() {
    return Set.of(FaultKind.SFTP_DROP);
  }

  @Override
  public String startFault(FaultKind kind, Random rng) {
    if (kind != FaultKind.SFTP_DROP) throw new IllegalArgumentException(kind + " not supported by sftp");
    long seed = rng.nextLong();
    int maxGap = 100 + rng.nextInt(900);
    dropper = Thread.ofPlatform().daemon().name("sftp-dropper").start(() -> {
      Random r = new Random(seed);
      while (!Thread.currentThread().isInterrupted()) {
        try {
          Thread.sleep(r.nextInt(maxGap));
        } catch (InterruptedException e) {
          return;
        }
        server.dropAllSessions();
      }
    });
    return "all sessions dropped every ≤" + maxGap + " ms";
  }

  @Override
  public void endFault() throws IOException {
    Thread t = dropper;
    if (t == null) return;
    t.interrupt();
    try {
      t.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dropper = null;
  }

  @Override
  public void close() throws IOException {
    endFault();
    server.close();
  }
}
