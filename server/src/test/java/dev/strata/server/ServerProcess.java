package dev.strata.server;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * {@code main} for a server in a child JVM: data directory, port and optionally a metadata URL and a storage URL as
 * arguments; runs until killed.
 */
public final class ServerProcess {
  private ServerProcess() {}

  public static void main(String[] args) throws Exception {
    ServerConfig cfg = ServerConfig.defaults(Path.of(args[0]))
        .withBind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])));
    if (args.length > 2 && !args[2].isEmpty()) cfg = cfg.withMetadataUrl(args[2]);
    if (args.length > 3 && !args[3].isEmpty()) cfg = cfg.withReplicaUrl(args[3]);
    Server.start(cfg);
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
