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

/** {@code strata cluster info DB}: the database's restore points ({@code GET /db/info}). */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Show a database's restore points (the first and last, or all with --all).")
final class ClusterInfoCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(paramLabel = "DB", description = "Database name") String db;

  @Option(names = {"-a", "--all"}, description = "List every restore point.") boolean all;

  @Override
  public Integer call() throws Exception {
    List<ServerClient.RestorePoint> points = parent.client().info(db, all);
    System.out.println("database: " + db);
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
