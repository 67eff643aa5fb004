package dev.strata.bench.torture;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.FaultProxy;
import dev.strata.replica.testing.FaultProxy.Fault;
import dev.strata.replica.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * S3Proxy (objects in a directory of the work dir) with a {@link FaultProxy} in front: the agent goes through the
 * proxy, which answers 500/503, resets connections or stalls on a seeded fraction of requests; restores and the
 * harness's own checks go straight to S3Proxy.
 */
final class S3Target implements ReplicaTarget {
  private static final String PREFIX = "app";
  private final S3ProxyServer s3;
  private final FaultProxy proxy;
  private final ReplicaClient client;

  S3Target(Path dir) throws IOException {
    try {
      this.s3 = S3ProxyServer.start(dir);
    } catch (Exception e) {
      throw new IOException("cannot start S3Proxy: " + e.getMessage(), e);
    }
    this.proxy = FaultProxy.start(s3.port());
    this.client = ReplicaUrl.open(s3.url(PREFIX));
  }

  @Override
  public String name() {
    return "s3";
  }

  @Override
  public String agentUrl() {
    return s3.url(PREFIX, proxy.port());
  }

  @Override
  public String restoreUrl() {
    return s3.url(PREFIX);
  }

  @Override
  public ReplicaClient client() {
    return client;
  }

  @Override
  public Set<FaultKind> storageFaults() {
    return Set.of(FaultKind.STORAGE_ERRORS, FaultKind.STORAGE_RESETS, FaultKind.STORAGE_STALL);
  }

  @Override
  public String startFault(FaultKind kind, Random rng) {
    // Mostly partial failure; now and then a total outage.
    double p = rng.nextInt(6) == 0 ? 1.0 : 0.1 + rng.nextDouble() * 0.5;
    List<Fault> pool = switch (kind) {
      case STORAGE_ERRORS -> List.of(Fault.ERROR_500, Fault.ERROR_503);
      case STORAGE_RESETS -> List.of(Fault.RESET, Fault.RESET_MID_RESPONSE);
      case STORAGE_STALL -> List.of(Fault.STALL);
      default -> throw new IllegalArgumentException(kind + " not supported by s3");
    };
    Random faults = new Random(rng.nextLong());
    proxy.schedule((method, target, n) -> {
      synchronized (faults) {
        return faults.nextDouble() < p ? pool.get(faults.nextInt(pool.size())) : Fault.NONE;
      }
    });
    return String.format("%s on %.0f%% of requests", pool, p * 100);
  }

  /**
   * Holds every PUT into {@code level} of any database (the request is read and never answered) until
   * {@link #endFault()}: a compaction caught mid-upload. Returns the log line marker of a held request.
   */
  String holdUploads(int level) {
    String marker = "/" + level + "/";
    proxy.schedule((method, target, n) -> method.equals("PUT") && target.contains(marker) ? Fault.STALL
        : Fault.NONE);
    return marker;
  }

  @Override
  public void endFault() {
    proxy.schedule(FaultProxy.passAll());
  }

  @Override
  public List<String> requestLog() {
    return proxy.log();
  }

  @Override
  public void close() throws IOException {
    try {
      client.close();
      proxy.close();
      s3.close();
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }
}
