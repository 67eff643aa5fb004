package dev.strata.cli;

import dev.strata.agent.control.ControlServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code strata status DB…}: per database, the local TXID and each replica's TXID, lag and errors. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show a running strata replicate's TXIDs: the database's and each replica's, with lag and errors.")
final class StatusCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "DB", description = "Databases, as strata replicate names them.")
  List<Path> dbs;

  @Override
  public Integer call() {
    int code = 0;
    for (Path db : dbs) {
      Path sock = ControlServer.socketFor(db);
      List<String> reply;
      try {
        reply = ControlServer.request(sock, "status");
      } catch (IOException e) {
        System.out.println(db + ": no strata replicate answers on " + sock);
        code = 2;
        continue;
      }
      for (String line : reply) {
        String[] f = line.split(" ");
        if (f[0].equals("db")) {
          System.out.println(db + ": TXID " + f[1]);
        } else if (f[0].equals("replica") && f.length >= 6) {
          long last = Long.parseLong(f[5]);
          System.out.println("  " + f[1] + ": TXID " + f[2] + ", " + f[3] + " TXIDs behind, " + f[4] + " errors"
              + (last > 0 ? ", last upload " + Instant.ofEpochMilli(last) : ""));
        } else if (f[0].equals("drill") && f.length >= 5) {
          System.out.println("  restore drill of " + f[1] + ": " + f[2] + " at " + Instant.ofEpochMilli(Long.parseLong(f[3]))
              + ", TXID " + f[4] + (f.length > 5 ? ": " + line.substring(line.indexOf(f[4]) + f[4].length() + 1) : ""));
        } else {
          System.out.println("  " + line);
        }
      }
    }
    return code;
  }
}
