package dev.strata.cli;

import dev.strata.server.client.ServerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code strata cluster}: the litefs-backup control plane ({@code lfsb}) against a running server. The options
 * may be given before or after the subcommand.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = "Manage a backup server's cluster: list, info, export, import, restore, delete (as lfsb).",
    subcommands = {ClusterListCommand.class, ClusterInfoCommand.class, ClusterExportCommand.class,
      ClusterImportCommand.class, ClusterRestoreCommand.class, ClusterDeleteCommand.class})
final class ClusterCommand implements Runnable {
  /** Used when neither --endpoint nor $LFSB_ENDPOINT is set. */
  static final String DEFAULT_ENDPOINT = "http://localhost:2200";

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--cluster"}, scope = ScopeType.INHERIT, paramLabel = "NAME",
      defaultValue = "${env:LFSB_CLUSTER}", description = "Cluster name (default $LFSB_CLUSTER).")
  String cluster;

  @Option(names = {"-e", "--endpoint"}, scope = ScopeType.INHERIT, paramLabel = "URL",
      defaultValue = "${env:LFSB_ENDPOINT}", description = "Server URL (default $LFSB_ENDPOINT, else "
          + DEFAULT_ENDPOINT + ").")
  String endpoint;

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN", defaultValue = "${env:STRATA_TOKEN}",
      description = "Cluster token, when the server requires one (default $STRATA_TOKEN).")
  String token;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** A client for the chosen cluster and endpoint. */
  ServerClient client() {
    if (cluster == null || cluster.isBlank()) throw new IllegalArgumentException("cluster must be specified");
    String url = endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint;
    return ServerClient.forCluster(url, cluster, token);
  }
}
