package dev.strata.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code strata cluster delete DB}: removes a database and all its backups ({@code DELETE /db}). */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Delete a database and every backup of it from the server.")
final class ClusterDeleteCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(paramLabel = "DB", description = "Database name") String db;

  @Override
  public Integer call() throws Exception {
    parent.client().delete(db);
    System.out.println("deleted " + db);
    return 0;
  }
}
