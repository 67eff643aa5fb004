package dev.strata.server;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/** {@code main} for a server in a child JVM: data directory and port as arguments; runs until killed. */
public final class ServerProcess {
  private ServerProcess() {}

  public static void main(String[] args) throws Exception {
    ServerConfig cfg = ServerConfig.defaults(Path.of(args[0]))
        .withBind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])));
    Server.start(cfg);
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
