package dev.strata.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Optional per-cluster tokens. When any are configured, every cluster must present its own: {@code Authorization:
 * cluster NAME TOKEN}, or {@code Authorization: Bearer TOKEN} for the cluster that token belongs to. Tokens are
 * compared in constant time so response timing does not reveal how much of a guess was right.
 */
public final class Tokens {
  private final Map<String, byte[]> byCluster;

  private Tokens(Map<String, byte[]> byCluster) {
    this.byCluster = byCluster;
  }

  /** No tokens: litefs-backup's behaviour, where naming a cluster is enough. */
  public static Tokens none() {
    return new Tokens(Map.of());
  }

  /**
   * Parses {@code cluster1:token1,cluster2:token2} (commas or newlines; {@code #} starts a comment line). A list
   * without any entry is refused: it would turn authentication off, which only {@link #none()} may do.
   */
  public static Tokens parse(String spec) {
    Map<String, byte[]> map = new LinkedHashMap<>();
    Map<String, String> owners = new LinkedHashMap<>();
    for (String line : spec.split("[,\\n]")) {
      String entry = line.strip();
      if (entry.isEmpty() || entry.startsWith("#")) continue;
      int colon = entry.indexOf(':');
      if (colon <= 0 || colon == entry.length() - 1) {
        throw new IllegalArgumentException("invalid token entry (want CLUSTER:TOKEN): \"" + redact(entry) + "\"");
      }
      String cluster = entry.substring(0, colon).strip(), token = entry.substring(colon + 1).strip();
      if (!Names.valid(cluster, Names.MAX_CLUSTER) || cluster.isEmpty()) {
        throw new IllegalArgumentException("invalid cluster name in tokens: \"" + cluster + "\"");
      }
      if (token.contains(" ")) throw new IllegalArgumentException("token for cluster " + cluster + " contains a space");
      if (map.containsKey(cluster)) throw new IllegalArgumentException("cluster " + cluster + " has two tokens");
      String other = owners.put(token, cluster);
      if (other != null) {
        throw new IllegalArgumentException("clusters " + other + " and " + cluster + " share a token");
      }
      map.put(cluster, token.getBytes(StandardCharsets.UTF_8));
    }
    if (map.isEmpty()) throw new IllegalArgumentException(NO_ENTRY);
    return new Tokens(Map.copyOf(map));
  }

  private static final String NO_ENTRY = "no CLUSTER:TOKEN entry";

  /**
   * The tokens a server option gives ({@code source} names it in errors, e.g. "tokens file F"). Starting without
   * authentication because a file came out empty would go unnoticed, so that refuses to start.
   */
  public static Tokens required(String spec, String source) {
    try {
      return parse(spec);
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().equals(NO_ENTRY)) throw new IllegalArgumentException(source + ": " + e.getMessage());
      throw new IllegalArgumentException(source + " holds " + NO_ENTRY + "; refusing to start without authentication");
    }
  }

  /** Reads a tokens file: one {@code CLUSTER:TOKEN} per line, at least one. */
  public static Tokens read(Path file) throws IOException {
    return required(Files.readString(file), "tokens file " + file);
  }

  /** True when tokens are required. */
  public boolean enabled() {
    return !byCluster.isEmpty();
  }

  /** Number of clusters with a token. */
  public int size() {
    return byCluster.size();
  }

  /** True when {@code token} is the token of {@code cluster}. */
  public boolean matches(String cluster, String token) {
    byte[] want = byCluster.get(cluster);
    byte[] got = token.getBytes(StandardCharsets.UTF_8);
    if (want == null) {
      MessageDigest.isEqual(got, got); // spend comparable time for unknown clusters
      return false;
    }
    return MessageDigest.isEqual(want, got);
  }

  /** The cluster a bearer token belongs to, or null; compares against every token. */
  public String clusterOf(String token) {
    byte[] got = token.getBytes(StandardCharsets.UTF_8);
    String found = null;
    for (Map.Entry<String, byte[]> e : byCluster.entrySet()) {
      if (MessageDigest.isEqual(e.getValue(), got) && found == null) found = e.getKey();
    }
    return found;
  }

  private static String redact(String entry) {
    int colon = entry.indexOf(':');
    return colon < 0 ? "…" : entry.substring(0, colon) + ":…";
  }
}
