package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts the storage a run writes to (a directory, S3Proxy behind a fault proxy, an SFTP server) and stops it. */
final class Backends implements AutoCloseable {
  private final Path root;
  private final Path logDir;
  private final List<String> names;
  private final List<ReplicaTarget> started = new ArrayList<>();

  Backends(Path root, Path logDir, List<String> names) {
    this.root = root;
    this.logDir = logDir;
    this.names = names;
  }

  /** Starts one target per backend name; credentials the agent needs go into {@code strata}'s environment. */
  List<ReplicaTarget> start(StrataLauncher strata) throws IOException {
    for (String name : names) {
      ReplicaTarget t = switch (name) {
        case "file" -> new FileTarget(root.resolve("file"), logDir);
        case "file-age" -> FileTarget.encrypted(root.resolve("file-age"), logDir);
        case "s3" -> new S3Target(root.resolve("s3"));
        case "sftp" -> new SftpTarget(root.resolve("sftp"));
        default -> throw new IllegalArgumentException("backend " + name + " is not available in this build yet");
      };
      started.add(t);
    }
    return List.copyOf(started);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (ReplicaTarget t : started) {
      try {
        t.close();
      } catch (IOException e) {
        if (first == null) first = e;
      }
    }
    if (first != null) throw first;
  }
}
