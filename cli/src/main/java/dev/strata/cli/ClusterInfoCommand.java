package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Txid;
import dev.strata.server.client.ServerClient;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code strata cluster info DB}: the database's restore points ({@code GET /db/info}) and the LiteFS cluster ID
 * its cluster is bound to.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = {"Show a database's restore points (the first and last, or all with --all)",
      "and the ID of the LiteFS cluster whose backups the cluster holds."})
final class ClusterInfoCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(paramLabel = "DB", description = "Database name") String db;

  @Option(names = {"-a", "--all"}, description = "List every restore point.") boolean all;

  @Override
  public Integer call() throws Exception {
    ServerClient.Info info = parent.client().info(db, all);
    List<ServerClient.RestorePoint> points = info.restorablePaths();
    System.out.println("database: " + db);
    System.out.println("litefs cluster id: " + (info.clusterId() == null ? "none recorded" : info.clusterId()));
    if (points.isEmpty()) {
      System.out.println("no restore points yet (they appear after the first 5-minute compaction)");
      return 0;
    }
    System.out.printf("%-16s  %-30s  %s%n", "txid", "timestamp", "checksum");
    for (ServerClient.RestorePoint p : points) {
      System.out.printf("%s  %-30s  %s%n", Txid.format(p.maxTxid()), p.maxTimestamp(),
          Checksum.format(p.postApplyChecksum()));
    }
    return 0;
  }
}
