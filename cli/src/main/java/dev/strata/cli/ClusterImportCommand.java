package dev.strata.cli;

import dev.strata.ltx.Txid;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code strata cluster import DB FILE}: uploads a SQLite file as the database's next state. */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = "Import a SQLite database file as the database's newest state (LiteFS picks it up).")
final class ClusterImportCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(index = "0", paramLabel = "DB", description = "Database name") String db;

  @Parameters(index = "1", paramLabel = "FILE", description = "SQLite database file") Path file;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
    long txid = parent.client().upload(db, () -> {
      try {
        return Files.newInputStream(file);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    System.out.println("imported " + file + " into " + db + " as txid " + Txid.format(txid));
    return 0;
  }
}
