package dev.strata.cli;

import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/**
 * A command-line argument naming a replica ({@code REPLICA_URL}: a URL, or the path of a replica directory) or a
 * database ({@code DB_PATH}: an existing file, whose replicas the config file lists), as Litestream's commands
 * take either.
 */
final class ReplicaArgument {
  private ReplicaArgument() {}

  /** True when {@code arg} names a database rather than a replica: a path to an existing regular file. */
  static boolean isDatabase(String arg) {
    if (arg.contains("://")) return false;
    try {
      return Files.isRegularFile(Path.of(arg));
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("invalid path: " + arg);
    }
  }

  /** The replica URLs {@code arg} stands for: itself, or a database's replicas from the config file. */
  static List<String> urls(String arg, ConfigOption config) throws IOException {
    if (!isDatabase(arg)) return List.of(arg);
    return config.replicasOf(Path.of(arg));
  }

  /** Opens the replica {@code arg} names; for a database, its first replica in the config file. */
  static ReplicaClient open(String arg, ConfigOption config) throws IOException {
    List<String> urls = urls(arg, config);
    if (urls.size() > 1) System.err.println("strata: " + arg + " has " + urls.size() + " replicas; using the first");
    return config.open(urls.getFirst());
  }
}
