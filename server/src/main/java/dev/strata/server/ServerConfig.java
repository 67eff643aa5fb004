package dev.strata.server;

import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.level.LevelConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;

/**
 * Everything {@link Server} needs. Start from {@link #defaults(Path)} and change what differs.
 *
 * @param dataDir holds {@code server.db} (metadata and level-0 staging, unless {@code metadataUrl} names
 *     PostgreSQL), {@code tmp/} and, when no replica URL is given, {@code objects/} (the embedded storage); one
 *     instance at a time ({@code server.lock})
 * @param metadataUrl {@code postgres://…} to keep metadata, staging and coordination in PostgreSQL, shared by any
 *     number of instances; null for the embedded SQLite file
 * @param bind address to listen on; port 0 picks a free one
 * @param replicaUrl storage for levels 1–9 ({@code s3://…}, a path or {@code file://…}); null for
 *     {@code <dataDir>/objects}
 * @param tls certificate to serve HTTPS with, or null for plain HTTP
 * @param clock source of "now" for timestamps, retention and schedules (tests pass a controllable one)
 * @param schedule run the compaction loops; tests turn this off and call the compactions directly
 * @param stallTimeout a request whose client sends or receives nothing for this long is cut off
 * @param compactionThreads databases compacted at the same time
 * @param age keys that every storage object is encrypted to (recipients) and read with (identities); none for
 *     plain objects
 * @param importLfsb a litefs-backup data path ({@code LFSB_DATA_PATH}) whose metadata to adopt at start, or null
 */
public record ServerConfig(
    Path dataDir,
    String metadataUrl,
    InetSocketAddress bind,
    String replicaUrl,
    Tokens tokens,
    TlsConfig tls,
    LevelConfig levels,
    InstantSource clock,
    boolean schedule,
    Duration stallTimeout,
    int compactionThreads,
    AgeKeys age,
    Path importLfsb) {

  /** litefs-backup's default listen address. */
  public static final String DEFAULT_BIND = ":2200";

  /** Embedded defaults: storage under the data directory, no tokens, plain HTTP on :2200, DESIGN.md's levels. */
  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig(dataDir, null, parseBind(DEFAULT_BIND), null, Tokens.none(), null, LevelConfig.defaults(),
        InstantSource.system(), true, Duration.ofSeconds(60), 8, AgeKeys.NONE, null);
  }

  /** TLS material: a PKCS#12 keystore, or a PEM certificate chain and PKCS#8 PEM private key. */
  public record TlsConfig(Path certificate, Path privateKey, String password) {
    /** Hides the password. */
    @Override
    public String toString() {
      return "TlsConfig[certificate=" + certificate + ", privateKey=" + privateKey + "]";
    }
  }

  /** A record's own toString would show the storage URL's keys and the TLS password: redacted here. */
  @Override
  public String toString() {
    return "ServerConfig[dataDir=" + dataDir + ", metadata=" + (metadataUrl == null ? "embedded"
        : dev.strata.server.store.PostgresMetadataStore.redact(metadataUrl)) + ", bind=" + bind + ", replicaUrl="
        + ReplicaUrl.redact(replicaUrl) + ", tokens=" + tokens.size() + " clusters, tls=" + tls
        + ", levels=" + levels + ", schedule=" + schedule + ", stallTimeout=" + stallTimeout + ", compactionThreads="
        + compactionThreads + ", age=" + age + "]";
  }

  public ServerConfig withImportLfsb(Path lfsbDataPath) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, tls, levels, clock, schedule, stallTimeout,
        compactionThreads, age, lfsbDataPath);
  }

  public ServerConfig withAge(AgeKeys keys) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, tls, levels, clock, schedule, stallTimeout,
        compactionThreads, keys, importLfsb);
  }

  public ServerConfig withMetadataUrl(String url) {
    return new ServerConfig(dataDir, url, bind, replicaUrl, tokens, tls, levels, clock, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withBind(InetSocketAddress a) {
    return new ServerConfig(dataDir, metadataUrl, a, replicaUrl, tokens, tls, levels, clock, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withReplicaUrl(String url) {
    return new ServerConfig(dataDir, metadataUrl, bind, url, tokens, tls, levels, clock, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withTokens(Tokens t) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, t, tls, levels, clock, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withTls(TlsConfig t) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, t, levels, clock, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withLevels(LevelConfig l) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, tls, l, clock, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withClock(InstantSource c) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, tls, levels, c, schedule, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withSchedule(boolean s) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, tls, levels, clock, s, stallTimeout,
        compactionThreads, age, importLfsb);
  }

  public ServerConfig withStallTimeout(Duration d) {
    return new ServerConfig(dataDir, metadataUrl, bind, replicaUrl, tokens, tls, levels, clock, schedule, d,
        compactionThreads, age, importLfsb);
  }

  /**
   * Parses a Go-style listen address: {@code :2200} (all interfaces), {@code host:port}, {@code [::1]:2200}.
   */
  public static InetSocketAddress parseBind(String bind) {
    if (bind == null || bind.isBlank()) throw new IllegalArgumentException("listen address required");
    int colon = bind.lastIndexOf(':');
    if (colon < 0) throw new IllegalArgumentException("invalid listen address (want HOST:PORT or :PORT): " + bind);
    String host = bind.substring(0, colon), port = bind.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid port in listen address: " + bind);
    }
    if (p < 0 || p > 65535) throw new IllegalArgumentException("invalid port in listen address: " + bind);
    return host.isEmpty() ? new InetSocketAddress(p) : new InetSocketAddress(host, p);
  }
}
