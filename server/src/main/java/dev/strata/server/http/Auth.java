package dev.strata.server.http;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import dev.strata.server.Names;
import dev.strata.server.Tokens;

/**
 * The {@code Authorization} header (spec §2.4). Without tokens, litefs-backup's rule: exactly
 * {@code cluster NAME}. With tokens: {@code cluster NAME TOKEN} or {@code Bearer TOKEN}.
 */
final class Auth {
  private final Tokens tokens;

  Auth(Tokens tokens) {
    this.tokens = tokens;
  }

  /** The cluster the header names and proves; throws {@code EINVALIDAUTH} or {@code EBADCLUSTER}. */
  String cluster(String header) {
    String[] parts = header == null ? new String[0] : header.split(" ", -1);
    if (!tokens.enabled()) {
      if (parts.length != 2 || !parts[0].equalsIgnoreCase("cluster")) throw invalidFormat();
      return Names.checkCluster(parts[1]);
    }
    if (parts.length == 2 && parts[0].equalsIgnoreCase("bearer")) {
      String cluster = tokens.clusterOf(parts[1]);
      if (cluster == null) throw new ApiException(ErrorCode.EINVALIDAUTH, "invalid token");
      return cluster;
    }
    if (parts.length == 3 && parts[0].equalsIgnoreCase("cluster")) {
      String cluster = Names.checkCluster(parts[1]);
      if (!tokens.matches(cluster, parts[2])) throw new ApiException(ErrorCode.EINVALIDAUTH, "invalid token");
      return cluster;
    }
    if (parts.length == 2 && parts[0].equalsIgnoreCase("cluster")) {
      Names.checkCluster(parts[1]);
      throw new ApiException(ErrorCode.EINVALIDAUTH, "token required (authorization: cluster NAME TOKEN)");
    }
    throw invalidFormat();
  }

  private static ApiException invalidFormat() {
    return new ApiException(ErrorCode.EINVALIDAUTH, "authorization header invalid format");
  }
}
