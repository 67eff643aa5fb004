package dev.strata.cli;

import dev.strata.agent.control.ControlServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata status DB…}: per database, the local TXID and each replica's TXID, lag, errors and last error, and
 * the last restore drills. Exit 2 when a database's agent does not answer.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show a running strata replicate's TXIDs: the database's and each replica's, with lag and errors.")
final class StatusCommand implements Callable<Integer> {
  @Parameters(arity = "0..*", paramLabel = "DB",
      description = "Databases, as strata replicate names them (with -config and none: every one it lists).")
  List<Path> dbs = new ArrayList<>();

  @Option(names = {"-config", "--config"}, paramLabel = "PATH",
      description = "The config file strata replicate runs with: its control: key says where the sockets are.")
  Path config;

  @Option(names = {"-no-expand-env", "--no-expand-env"}, description = "Do not expand $VAR in the config file.")
  boolean noExpandEnv;

  @Override
  public Integer call() throws IOException {
    ControlSockets sockets;
    List<Path> which;
    try {
      sockets = ControlSockets.load(config, !noExpandEnv);
      which = sockets.databases(dbs, true);
    } catch (IllegalArgumentException e) {
      System.err.println("strata: " + e.getMessage());
      return 2;
    }
    int code = 0;
    for (Path db : which) {
      List<String> reply;
      Path sock = null;
      try {
        sock = sockets.socketFor(db);
        reply = ControlServer.request(sock, "status");
      } catch (IllegalArgumentException e) {
        System.out.println(e.getMessage());
        code = 2;
        continue;
      } catch (IOException e) {
        System.out.println(db + ": no strata replicate answers on " + sock + " (" + e.getMessage() + ")");
        code = 2;
        continue;
      }
      for (String line : reply) System.out.println(describe(db, line));
    }
    return code;
  }

  /** One reply line of the socket's {@code status} as a person reads it. */
  private static String describe(Path db, String line) {
    String[] f = line.split(" ", 8);
    if (f[0].equals("db")) return db + ": TXID " + f[1];
    if (f[0].equals("replica") && f.length >= 6) {
      long last = Long.parseLong(f[5]);
      String s = "  " + f[1] + ": TXID " + f[2] + ", " + f[3] + " TXIDs behind, " + f[4] + " errors"
          + (last > 0 ? ", last upload " + Instant.ofEpochMilli(last) : "");
      if (f.length == 8) s += ", last error " + Instant.ofEpochMilli(Long.parseLong(f[6])) + ": " + f[7];
      return s;
    }
    if (f[0].equals("drill") && f.length >= 5) {
      String[] d = line.split(" ", 6);
      return "  restore drill of " + d[1] + ": " + d[2] + " at " + Instant.ofEpochMilli(Long.parseLong(d[3]))
          + ", TXID " + d[4] + (d.length > 5 ? ": " + d[5] : "");
    }
    return "  " + line;
  }
}
