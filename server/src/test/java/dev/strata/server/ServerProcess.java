package dev.strata.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code main} for a server in a child JVM: data directory, port and optionally a metadata URL and a storage URL as
 * arguments; runs until killed.
 */
public final class ServerProcess {
  private ServerProcess() {}

  /** Starts a child JVM running {@link #main} with these arguments; returns once it is serving. */
  static Process launch(Path data, int port, String... more) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), ServerProcess.class.getName(), data.toString(), Integer.toString(port)));
    command.addAll(List.of(more));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
    for (String line; (line = r.readLine()) != null; ) {
      if (line.equals("ready")) break;
    }
    Thread.ofVirtual().start(() -> {
      try {
        while (r.readLine() != null) {
          // drain the child's log
        }
      } catch (IOException ignored) {
        // the child died
      }
    });
    return p;
  }

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
