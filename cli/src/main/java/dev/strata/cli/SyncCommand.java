package dev.strata.cli;

import dev.strata.agent.control.ControlServer;
import dev.strata.agent.control.SyncRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata sync DB}: asks the running {@code strata replicate} for a sync pass now. With {@code --wait}:
 * returns once every commit made before the call is durable on all (or N) replicas and prints that TXID; the
 * wait forces nothing (the next regular sync covers it) unless {@code --now} is given too. Exit 0, 1 on timeout,
 * 2 when no agent answers (or the config turns its socket off).
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
    description = {"Ask strata replicate for a sync pass now, or wait until commits are durable on the replicas.",
        "Talks to the control socket .<db>-strata.sock beside the database, or the one the config's control: names."})
final class SyncCommand implements Callable<Integer> {
  @Parameters(arity = "0..1", paramLabel = "DB",
      description = "The database, as strata replicate names it (optional with a -config listing one).")
  List<Path> db = new ArrayList<>();

  @Option(names = {"--wait", "-wait"},
      description = "Wait until every commit made before this call is durable, then print its TXID.")
  boolean await;

  @Option(names = {"--now", "-now"}, description = "With --wait: force a sync pass now instead of the next regular one.")
  boolean now;

  @Option(names = {"--replicas", "-replicas"}, paramLabel = "all|N", defaultValue = SyncRequest.ALL_REPLICAS,
      description = "With --wait: how many replicas must hold the commits (default: all).")
  String replicas;

  @Option(names = {"--timeout", "-timeout"}, paramLabel = "DURATION", defaultValue = SyncRequest.DEFAULT_TIMEOUT,
      description = "With --wait: give up after this long, exit 1 (default: 10s).")
  String timeout;

  @Option(names = {"--socket", "-socket"}, paramLabel = "PATH", description = "The control socket, if not the default.")
  Path socket;

  @Option(names = {"-config", "--config"}, paramLabel = "PATH",
      description = "The config file strata replicate runs with: its control: key says where the socket is.")
  Path config;

  @Option(names = {"-no-expand-env", "--no-expand-env"}, description = "Do not expand $VAR in the config file.")
  boolean noExpandEnv;

  @Override
  public Integer call() throws IOException {
    SyncRequest request = SyncRequest.parse(await, replicas, timeout, now);
    Path sock;
    if (socket != null) {
      sock = socket;
    } else {
      try {
        ControlSockets sockets = ControlSockets.load(config, !noExpandEnv);
        sock = sockets.socketFor(sockets.databases(db, false).getFirst());
      } catch (IllegalArgumentException e) {
        System.err.println("strata: " + e.getMessage());
        return 2;
      }
    }
    List<String> reply;
    try {
      reply = ControlServer.request(sock, request.await()
          ? "wait " + request.replicas() + " " + request.timeout().toMillis() + " " + (request.now() ? 1 : 0)
          : "sync");
    } catch (IOException e) {
      System.err.println("strata: no strata replicate answers on " + sock + " (" + e.getMessage() + ")");
      return 2;
    }
    String first = reply.isEmpty() ? "error no reply" : reply.getFirst();
    if (first.equals("ok")) return 0;
    if (first.startsWith("ok ")) {
      System.out.println(first.substring(3));
      return 0;
    }
    System.err.println("strata: " + first.replaceFirst("^(timeout|error) ", ""));
    return first.startsWith("timeout") ? 1 : 2;
  }
}
