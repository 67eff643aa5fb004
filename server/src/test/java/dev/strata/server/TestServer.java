package dev.strata.server;

import dev.strata.replica.level.Level;
import dev.strata.replica.testing.FakeClock;
import dev.strata.server.client.ServerClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.UnaryOperator;

/** A server on loopback for one test, with a hand-moved clock and no compaction loops (tests run them). */
final class TestServer implements AutoCloseable {
  final Path data;
  final FakeClock clock;
  final Server server;

  TestServer(Path data) throws IOException {
    this(data, UnaryOperator.identity());
  }

  TestServer(Path data, UnaryOperator<ServerConfig> tweak) throws IOException {
    this(data, new FakeClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)), tweak);
  }

  TestServer(Path data, FakeClock clock, UnaryOperator<ServerConfig> tweak) throws IOException {
    this(data, clock, tweak, null);
  }

  TestServer(Path data, FakeClock clock, UnaryOperator<ServerConfig> tweak,
      dev.strata.replica.ReplicaClient storage) throws IOException {
    this.data = data;
    this.clock = clock;
    ServerConfig cfg = ServerConfig.defaults(data).withBind(new InetSocketAddress("127.0.0.1", 0))
        .withClock(clock).withSchedule(false).withStallTimeout(Duration.ofSeconds(2))
        .withMetadataUrl(TestMetadata.urlFor(data));
    this.server = Server.start(tweak.apply(cfg), storage);
  }

  String url() {
    return server.localUrl();
  }

  ServerClient client(String cluster) {
    return ServerClient.forCluster(url(), cluster, null);
  }

  /** Runs every pending flush and compaction once, bottom-up, as the loops would over time. */
  void compactAll() {
    server.scheduler().runLevel(1);
    server.scheduler().runLevel(2);
    server.scheduler().runLevel(3);
    server.scheduler().runLevel(Level.SNAPSHOT);
  }

  /** A raw request: method, path and query, Authorization (null for none), body (null for none). */
  HttpResponse<byte[]> raw(String method, String pathAndQuery, String authorization, byte[] body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + pathAndQuery))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    if (authorization != null) b.header("Authorization", authorization);
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      return c.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
  }

  /** The storage of one database. */
  dev.strata.replica.ReplicaClient storage(String cluster, String name) {
    return server.jobs().storage(cluster, name);
  }

  /** The MaxTXIDs of a listing, for assertions. */
  static java.util.List<Long> maxes(java.util.List<dev.strata.replica.LtxFileMeta> files) {
    return files.stream().map(dev.strata.replica.LtxFileMeta::maxTxid).toList();
  }

  /** Pending compaction requests of a level. */
  java.util.List<dev.strata.server.store.Rows.CompactionRequest> requests(int level) throws IOException {
    return server.store().read(c -> dev.strata.server.store.Rows.compactionRequests(c, level));
  }

  /** The database row, or null. */
  dev.strata.server.store.DbRow db(String cluster, String name) throws IOException {
    return server.store().read(c -> dev.strata.server.store.Rows.findDb(c, cluster, name));
  }

  /** MaxTXIDs of the transactions level 0 holds for a database. */
  java.util.List<Long> localTxids(String cluster, String name) throws IOException {
    dev.strata.server.store.DbRow row = db(cluster, name);
    return server.store().read(c -> dev.strata.server.store.Rows.txnMaxTxids(c, row.id()));
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
