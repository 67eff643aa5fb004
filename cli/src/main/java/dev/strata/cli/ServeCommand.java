package dev.strata.cli;

import dev.strata.replica.age.AgeKeys;
import dev.strata.server.Server;
import dev.strata.server.ServerConfig;
import dev.strata.server.Tokens;
import dev.strata.server.store.PostgresMetadataStore;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata serve}: the LiteFS-compatible backup server. Configured like litefs-backup, by its environment
 * variables or by flags; with no bucket it keeps storage objects under the data directory.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Run the LiteFS-compatible backup server (a drop-in for litefs-backup).",
      "Environment: LFSB_DATA_PATH, LFSB_BIND, BUCKET_NAME, AWS_ENDPOINT_URL_S3, AWS_REGION,",
      "AWS_ACCESS_KEY_ID (AWS_ACCESS_KEY), AWS_SECRET_ACCESS_KEY (AWS_SECRET_KEY), STRATA_TOKENS,",
      "STRATA_METADATA_URL."})
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--data", paramLabel = "DIR",
      description = "Data directory: metadata, staging, and storage when no bucket is set (default $LFSB_DATA_PATH).")
  Path data;

  @Option(names = "--metadata", paramLabel = "URL",
      description = {"Keep metadata, staging and coordination in PostgreSQL (postgres://user@host:5432/db), shared by",
        "any number of instances (default $STRATA_METADATA_URL; unset: embedded SQLite in the data directory)."})
  String metadata;

  @Option(names = "--check", description = "Check the metadata database (connectivity, schema version) and exit.")
  boolean check;

  @Option(names = "--bind", paramLabel = "ADDR", description = "Listen address (default $LFSB_BIND or :2200).")
  String bind;

  @Option(names = "--replica", paramLabel = "URL",
      description = "Storage URL for levels 1-9 (s3://…, file://… or a path); overrides BUCKET_NAME.")
  String replica;

  @Option(names = "--age-recipient", paramLabel = "AGE1…",
      description = "Encrypt every storage object to this age public key (may repeat); needs --age-identity too.")
  java.util.List<String> ageRecipients = new java.util.ArrayList<>();

  @Option(names = "--age-identity", paramLabel = "FILE",
      description = "age identity file that reads the encrypted storage (may repeat).")
  java.util.List<Path> ageIdentities = new java.util.ArrayList<>();

  @Option(names = "--import-lfsb", paramLabel = "LFSB_DATA_PATH",
      description = {"Adopt a litefs-backup deployment at start (stop it first): its metadata database",
        "(dirname(LFSB_DATA_PATH)/server.db) is copied in; its bucket is used as it is (same BUCKET_NAME)."})
  Path importLfsb;

  @Option(names = "--tokens-file", paramLabel = "FILE",
      description = "Require per-cluster tokens: one CLUSTER:TOKEN per line (or $STRATA_TOKENS).")
  Path tokensFile;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "Serve HTTPS: a PKCS#12 keystore, or a PEM certificate chain with --tls-key.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key for --tls-cert.")
  Path tlsKey;

  @Option(names = "--tls-password", paramLabel = "PASSWORD",
      description = "Keystore password (default $STRATA_TLS_PASSWORD).")
  String tlsPassword;

  @Override
  public Integer call() throws Exception {
    if (check) {
      String url = metadataUrl(System.getenv());
      if (url == null) {
        throw new IllegalArgumentException("--check needs --metadata (or STRATA_METADATA_URL): the embedded store is"
            + " checked by starting the server");
      }
      System.out.println(PostgresMetadataStore.check(url));
      return 0;
    }
    ServerConfig cfg = config(System.getenv());
    Server server = Server.start(cfg);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        System.err.println("strata: " + CliErrors.oneLine(e));
      } finally {
        stopped.countDown();
      }
    }));
    stopped.await();
    return 0;
  }

  ServerConfig config(Map<String, String> env) throws java.io.IOException {
    Path dataDir = data;
    if (dataDir == null && nonEmpty(env.get("LFSB_DATA_PATH"))) dataDir = Path.of(env.get("LFSB_DATA_PATH"));
    if (dataDir == null) throw new IllegalArgumentException("data directory required: --data DIR or LFSB_DATA_PATH");
    ServerConfig cfg = ServerConfig.defaults(dataDir);
    String metadataUrl = metadataUrl(env);
    if (metadataUrl != null) cfg = cfg.withMetadataUrl(metadataUrl);
    String addr = bind != null ? bind : nonEmpty(env.get("LFSB_BIND")) ? env.get("LFSB_BIND") : ServerConfig.DEFAULT_BIND;
    cfg = cfg.withBind(ServerConfig.parseBind(addr));
    String url = replica != null ? replica : s3Url(env);
    if (url != null) cfg = cfg.withReplicaUrl(url);
    // Set at all, even blank, it must name a token: an empty secret from a deployment template must not turn
    // authentication off.
    if (tokensFile != null) cfg = cfg.withTokens(Tokens.read(tokensFile));
    else if (env.containsKey("STRATA_TOKENS")) {
      cfg = cfg.withTokens(Tokens.required(env.get("STRATA_TOKENS"), "STRATA_TOKENS"));
    }
    if (importLfsb != null) cfg = cfg.withImportLfsb(importLfsb);
    if (!ageRecipients.isEmpty() || !ageIdentities.isEmpty()) {
      // The server reads back what it compacts: a recipients-only server could store but never compact.
      if (ageRecipients.isEmpty() || ageIdentities.isEmpty()) {
        throw new IllegalArgumentException("an encrypted server needs both --age-recipient and --age-identity");
      }
      cfg = cfg.withAge(new AgeKeys(ageRecipients, ageIdentities));
    }
    if (tlsCert != null) {
      String pw = tlsPassword != null ? tlsPassword : env.get("STRATA_TLS_PASSWORD");
      cfg = cfg.withTls(new ServerConfig.TlsConfig(tlsCert, tlsKey, pw));
    } else if (tlsKey != null) {
      throw new IllegalArgumentException("--tls-key needs --tls-cert");
    }
    return cfg;
  }

  private String metadataUrl(Map<String, String> env) {
    String url = metadata != null ? metadata : env.get("STRATA_METADATA_URL");
    return nonEmpty(url) ? url : null;
  }

  /**
   * The S3 replica URL litefs-backup's variables describe, or null without {@code BUCKET_NAME}. A custom endpoint
   * forces path-style addressing, as in litefs-backup.
   */
  static String s3Url(Map<String, String> env) {
    String bucket = env.get("BUCKET_NAME");
    if (!nonEmpty(bucket)) return null;
    Map<String, String> q = new LinkedHashMap<>();
    String endpoint = env.get("AWS_ENDPOINT_URL_S3");
    if (nonEmpty(endpoint)) {
      q.put("endpoint", endpoint);
      q.put("force-path-style", "true");
    }
    if (nonEmpty(env.get("AWS_REGION"))) q.put("region", env.get("AWS_REGION"));
    String key = first(env, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY");
    String secret = first(env, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY");
    if (key != null) q.put("access-key-id", key);
    if (secret != null) q.put("secret-access-key", secret);
    StringBuilder b = new StringBuilder("s3://").append(bucket);
    char sep = '?';
    for (Map.Entry<String, String> e : q.entrySet()) {
      b.append(sep).append(e.getKey()).append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
      sep = '&';
    }
    return b.toString();
  }

  private static String first(Map<String, String> env, String... names) {
    for (String n : names) if (nonEmpty(env.get(n))) return env.get(n);
    return null;
  }

  private static boolean nonEmpty(String s) {
    return s != null && !s.isBlank();
  }
}
