package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestorePoint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code strata restore-points URL}: every TXID and time a restore can reach. */
@Command(name = "restore-points", description = "List the TXIDs and times a replica can restore to.",
    mixinStandardHelpOptions = true)
final class RestorePointsCommand implements Callable<Integer> {
  @Parameters(paramLabel = "REPLICA_URL|DB_PATH", description = "Replica: a path, file://, s3:// or sftp:// URL; or a database file, whose replica the config names.")
  String url;

  @picocli.CommandLine.Mixin ConfigOption config;

  @Option(names = {"--json", "-json"}, description = "Print JSON.") boolean json;

  @Override
  public Integer call() throws IOException {
    try (ReplicaClient client = ReplicaArgument.open(url, config)) {
      var litestream = LitestreamCli.detect(client);
      if (litestream != null) {
        LitestreamCli.points(client, litestream, json);
        return 0;
      }
      List<RestorePoint> points = new RestorePlanner(client).restorePoints();
      if (json) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (RestorePoint p : points) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("txid", Txid.format(p.txid()));
          m.put("timestamp", Timestamps.format(p.timestamp()));
          if (p.postApplyChecksum() != 0) m.put("checksum", Checksum.format(p.postApplyChecksum()));
          m.put("files", p.files());
          out.add(m);
        }
        FileTable.writeJson(System.out, out);
      } else {
        System.out.printf("%-16s  %-24s  %-16s  %s%n", "TXID", "TIMESTAMP", "CHECKSUM", "FILES");
        for (RestorePoint p : points) {
          System.out.printf("%s  %-24s  %-16s  %d%n", Txid.format(p.txid()), Timestamps.format(p.timestamp()),
              p.postApplyChecksum() == 0 ? "-" : Checksum.format(p.postApplyChecksum()), p.files());
        }
      }
    }
    return 0;
  }
}
