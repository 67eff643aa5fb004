package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Txid;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code strata cluster list}: every database of the cluster with its position ({@code GET /pos}). */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List the cluster's databases.")
final class ClusterListCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Override
  public Integer call() throws Exception {
    Map<String, Pos> positions = parent.client().positions();
    int width = Math.max(8, positions.keySet().stream().mapToInt(String::length).max().orElse(0));
    System.out.printf("%-" + width + "s  %-16s  %s%n", "database", "txid", "checksum");
    for (Map.Entry<String, Pos> e : positions.entrySet()) {
      System.out.printf("%-" + width + "s  %s  %s%n", e.getKey(), Txid.format(e.getValue().txid()),
          Checksum.format(e.getValue().postApplyChecksum()));
    }
    return 0;
  }
}
