package dev.strata.server.http;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.Names;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.Rows;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps two LiteFS clusters from streaming into one cluster's backups. LiteFS sends its cluster ID on every request
 * ({@code Litefs-Cluster-Id}: "LFSC" and 16 hex digits); a cluster is bound to the first ID that writes to it, or
 * that calls while it holds databases, and requests with another ID are refused with 422 {@code
 * ECLUSTERIDMISMATCH}, as LiteFS Cloud refused them. LiteFS takes any error but a position mismatch as a failed
 * stream (logged, retried each second, its databases untouched), whereas an answer would make it replace its own
 * databases with the other cluster's: it treats the backup as the authority.
 *
 * <p>Requests without the header (lfsb, {@code strata cluster}, curl) are neither checked nor recorded. Deleting a
 * cluster's last database unbinds it. Binding waits for a write or stored databases so that a LiteFS with nothing
 * to back up, which only polls {@code /pos}, never claims a name that nothing could then release.
 */
final class ClusterIds {
  static final String HEADER = "Litefs-Cluster-Id";
  private static final Logger log = LoggerFactory.getLogger(ClusterIds.class);
  private static final Pattern VALID = Pattern.compile("LFSC[0-9A-Fa-f]{16}");

  private final MetadataStore store;
  /** The bindings read or made since start; only this class writes them, so they stay true. */
  private final Map<String, String> bound = new ConcurrentHashMap<>();
  /** Refused (cluster, ID) pairs already logged: LiteFS retries every second. */
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  ClusterIds(MetadataStore store) {
    this.store = store;
  }

  /**
   * Checks a request's ID (the header, or null) against the cluster's binding, binding the cluster first when it has
   * none and the request {@code writes} or the cluster holds databases. Throws {@code EBADCLUSTERID} or {@code
   * ECLUSTERIDMISMATCH}.
   */
  void check(String cluster, String id, boolean writes) throws IOException {
    if (id == null || id.isEmpty()) return;
    if (!VALID.matcher(id).matches()) {
      throw new ApiException(ErrorCode.EBADCLUSTERID,
          "invalid " + HEADER + " " + Names.goQuote(id) + ": want LFSC and 16 hex digits");
    }
    String recorded = bound.get(cluster);
    if (recorded == null) recorded = bind(cluster, id, writes);
    if (recorded != null && !recorded.equals(id)) throw mismatch(cluster, recorded, id);
  }

  /** The LiteFS cluster ID the cluster is bound to, or null. */
  String recorded(String cluster) throws IOException {
    String id = bound.get(cluster);
    return id != null ? id : store.read(c -> Rows.clusterId(c, cluster));
  }

  /** After a delete: a cluster left without databases is unbound, so that a recreated LiteFS cluster can use it. */
  synchronized void forgetIfEmpty(String cluster) throws IOException {
    String dropped = store.write(c -> Rows.deleteClusterIdIfEmpty(c, cluster));
    if (dropped != null) {
      bound.remove(cluster);
      warned.removeIf(k -> k.startsWith(cluster + " "));
      log.info("cluster {}: no databases left; forgot LiteFS cluster id {}", cluster, dropped);
    }
  }

  /** The binding after binding {@code id} if allowed; null while the cluster stays unbound. */
  private synchronized String bind(String cluster, String id, boolean writes) throws IOException {
    String recorded = bound.get(cluster);
    if (recorded != null) return recorded;
    recorded = store.read(c -> Rows.clusterId(c, cluster));
    if (recorded == null) {
      if (!writes && !store.read(c -> Rows.hasDatabases(c, cluster))) return null; // nothing to protect yet
      store.write(c -> {
        Rows.insertClusterId(c, cluster, id);
        return null;
      });
      recorded = id;
      log.info("cluster {}: recorded LiteFS cluster id {}", cluster, id);
    }
    bound.put(cluster, recorded);
    return recorded;
  }

  private ApiException mismatch(String cluster, String recorded, String id) {
    if (warned.add(cluster + " " + id)) {
      log.warn("cluster {}: refusing LiteFS cluster id {}; its backups belong to LiteFS cluster {}"
          + " (see the server README to recover or start afresh)", cluster, id, recorded);
    }
    // LiteFS Cloud's wording, which LiteFS's documentation quotes, then the ID that was refused.
    return new ApiException(ErrorCode.ECLUSTERIDMISMATCH, "cluster id mismatch, expecting \"" + recorded
        + "\", got \"" + id + "\" (cluster \"" + cluster + "\" holds another LiteFS cluster's backups)");
  }
}
