package dev.strata.cli;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Opens the replica a command-line argument names, refusing a database file given where a replica is expected. */
final class ReplicaArgument {
  private ReplicaArgument() {}

  static ReplicaClient open(String arg) {
    if (!arg.contains("://")) {
      try {
        if (Files.isRegularFile(Path.of(arg))) {
          throw new IllegalArgumentException(arg + " is a file, not a replica directory; finding a database's "
              + "replica in the config file is not supported yet: give the replica URL");
        }
      } catch (InvalidPathException e) {
        throw new IllegalArgumentException("invalid replica path: " + arg);
      }
    }
    return ReplicaUrl.open(arg);
  }
}
