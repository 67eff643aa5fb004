package dev.strata.cli;

import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
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
  @Parameters(paramLabel = "REPLICA_URL", description = "Replica: a path, file://, s3:// or sftp:// URL.") String url;

  @Option(names = {"--json", "-json"}, description = "Print JSON.") boolean json;

  @Override
  public Integer call() throws IOException {
    try (ReplicaClient client = ReplicaUrl.open(url)) {
      List<LtxFileMeta> files = client.listFiles(Level.SNAPSHOT);
      if (json) FileTable.writeJson(System.out, FileTable.json(files));
      else FileTable.print(System.out, files);
    }
    return 0;
  }
}
