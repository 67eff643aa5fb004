package dev.strata.bench.torture;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One {@code strata serve} process on a fixed loopback port (kept across restarts, as LiteFS keeps its endpoint).
 * It is ready when {@code GET /pos} answers 200.
 */
final class ServerProcess extends StrataProcess {
  private ServerProcess(Launched launched) {
    super(launched);
  }

  /** A free loopback port for the server to keep. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Starts {@code strata serve --data DIR --bind 127.0.0.1:PORT --replica URL}, appending its output to log. */
  static ServerProcess start(StrataLauncher strata, Path dataDir, int port, String replicaUrl, Path log)
      throws IOException {
    return start(strata, dataDir, port, replicaUrl, null, log);
  }

  /** The same with {@code --metadata URL} when {@code metadataUrl} is not null (PostgreSQL shared by instances). */
  static ServerProcess start(StrataLauncher strata, Path dataDir, int port, String replicaUrl, String metadataUrl,
      Path log) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(strata.command("serve", "--data", dataDir.toString(), "--bind",
        "127.0.0.1:" + port, "--replica", replicaUrl));
    if (metadataUrl != null) cmd.addAll(List.of("--metadata", metadataUrl));
    return new ServerProcess(launch(strata, cmd, log));
  }

  /** Waits until {@code GET /pos} answers 200; false when the process exited first or {@code timeout} passed. */
  boolean awaitReady(BackupApi api, Duration timeout) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      if (!alive()) return false;
      try {
        api.positions();
        return true;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    return false;
  }
}
