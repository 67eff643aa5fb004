package dev.strata.cli;

import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.level.Level;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code strata snapshots URL}: the full-database snapshots (level 9) a replica holds. */
@Command(name = "snapshots", description = "List the snapshots (level 9) of a replica.", mixinStandardHelpOptions = true)
final class SnapshotsCommand implements Callable<Integer> {
  @Parameters(paramLabel = "REPLICA_URL|DB_PATH", description = "Replica: a path, file://, s3:// or sftp:// URL; or a database file, whose replica the config names.")
  String url;

  @picocli.CommandLine.Mixin ConfigOption config;

  @Option(names = {"--json", "-json"}, description = "Print JSON.") boolean json;

  @Override
  public Integer call() throws IOException {
    try (ReplicaClient client = ReplicaArgument.open(url, config)) {
      var litestream = LitestreamCli.detect(client);
      if (litestream != null) {
        LitestreamCli.snapshots(client, litestream, json);
        return 0;
      }
      List<LtxFileMeta> files = client.listFiles(Level.SNAPSHOT);
      if (json) FileTable.writeJson(System.out, FileTable.json(files));
      else FileTable.print(System.out, files);
    }
    return 0;
  }
}
