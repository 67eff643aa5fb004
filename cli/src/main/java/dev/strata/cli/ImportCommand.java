package dev.strata.cli;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.litestream.LitestreamImport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata import SRC_URL DST_URL}: converts a Litestream replica (0.3 generations or 0.5 LTX levels) into a
 * Strata replica, one TXID per Litestream restore point, timestamps kept, then restores a sample of points from both
 * and compares them. {@code strata replicate} then continues the same database on DST.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Convert a Litestream replica's history into a Strata replica.",
        "One TXID per Litestream restore point, with its time; a sample of points is restored from both replicas "
            + "and compared. Then strata replicate continues the database on DST_URL."})
final class ImportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SRC_URL", description = "The Litestream replica: a path, file://, s3:// or sftp:// URL.")
  String source;

  @Parameters(index = "1", paramLabel = "DST_URL", description = "The Strata replica to create (empty).")
  String destination;

  @picocli.CommandLine.Mixin ConfigOption config;

  @Option(names = {"--samples", "-samples"}, paramLabel = "N", defaultValue = "5",
      description = "Restore points compared after the import (default: 5; 0: none).")
  int samples;

  @Option(names = {"--work-dir", "-work-dir"}, paramLabel = "DIR",
      description = "Where the working database is kept (default: the system's temporary directory).")
  Path workDir;

  @Override
  public Integer call() throws IOException {
    Path work = workDir == null ? Files.createTempDirectory("strata-import-")
        : Files.createTempDirectory(Files.createDirectories(workDir), "strata-import-");
    long started = System.nanoTime();
    try (ReplicaClient src = config.open(source); ReplicaClient dst = ReplicaUrl.open(destination)) {
      LitestreamImport.Result r = LitestreamImport.run(src, dst, work, samples, s -> System.out.println(s));
      double secs = (System.nanoTime() - started) / 1e9;
      System.out.printf(java.util.Locale.ROOT, "import: %d points, %s written in %.1f s (%.1f MB/s)%n",
          r.points().size(), FileTable.size(r.bytesWritten()), secs, r.bytesWritten() / 1e6 / secs);
      return 0;
    } finally {
      DirectoryTree.delete(work);
    }
  }
}
