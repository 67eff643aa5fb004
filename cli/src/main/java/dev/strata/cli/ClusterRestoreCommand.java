package dev.strata.cli;

import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.server.client.ServerClient;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code strata cluster restore DB (--txid=… | --timestamp=…) [--check]}: makes an earlier state the database's
 * newest one on the server; LiteFS fetches it within seconds.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore a database to a TXID or a point in time (--check only verifies the restore point).")
final class ClusterRestoreCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(paramLabel = "DB", description = "Database name") String db;

  @ArgGroup(exclusive = true, multiplicity = "1") Target target;

  static final class Target {
    @Option(names = "--txid", paramLabel = "TXID", description = "Restore point TXID (16 hex digits).")
    String txid;

    @Option(names = "--timestamp", paramLabel = "TIME",
        description = "Newest restore point at or before this RFC 3339 time, e.g. 2026-11-21T10:00:00Z.")
    String timestamp;
  }

  @Option(names = "--check", description = "Only check that the restore point exists and can be rebuilt.")
  boolean check;

  @Override
  public Integer call() throws Exception {
    Long txid = target.txid == null ? null : Txid.parse(target.txid);
    Instant ts = target.timestamp == null ? null : Timestamps.parse(target.timestamp);
    ServerClient client = parent.client();
    if (check) {
      ServerClient.Check c = client.restoreCheck(db, txid, ts);
      System.out.println("restore point: txid " + Txid.format(c.txid()) + " at " + c.timestamp());
    } else {
      long newTxid = client.restore(db, txid, ts);
      System.out.println("restored " + db + "; its new txid is " + Txid.format(newTxid));
    }
    return 0;
  }
}
