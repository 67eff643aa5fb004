package dev.strata.cli;

import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.DirectorySpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.config.AgentConfig;
import dev.strata.agent.config.ConfigFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code -config} and {@code -no-expand-env} for commands that accept a database path and find its replicas in the
 * config file, as {@code strata replicate} reads it ({@code -config}, {@code $STRATA_CONFIG}, or
 * {@code /etc/strata.yml}).
 */
final class ConfigOption {
  @Option(names = {"-config", "--config"}, paramLabel = "PATH",
      description = "Config file for a DB_PATH (default: $STRATA_CONFIG or /etc/strata.yml).")
  Path config;

  @Option(names = {"-no-expand-env", "--no-expand-env"}, description = "Do not expand $VAR in the config file.")
  boolean noExpandEnv;

  @Option(names = {"--age-identity", "-age-identity"}, paramLabel = "FILE",
      description = "age identity file (AGE-SECRET-KEY-1… lines) to read an encrypted replica; may repeat.")
  List<Path> ageIdentities = new java.util.ArrayList<>();

  /**
   * Opens a replica URL with the {@code --age-identity} keys added; without any key, the client still recognises an
   * encrypted replica and says so instead of failing on its contents.
   */
  dev.strata.replica.ReplicaClient open(String url) {
    var keys = new dev.strata.replica.age.AgeKeys(List.of(), ageIdentities);
    return dev.strata.replica.age.AgeReplicaClient.wrap(dev.strata.replica.ReplicaUrl.open(url, keys),
        dev.strata.replica.age.AgeKeys.NONE);
  }

  /** The config file this command reads. */
  Path file() {
    if (config != null) return config;
    String env = System.getenv("STRATA_CONFIG");
    return env != null && !env.isBlank() ? Path.of(env) : ReplicateCommand.DEFAULT_CONFIG;
  }

  /** True when a config file was named or exists at the default places. */
  boolean available() {
    return config != null || Files.exists(file());
  }

  /** The replica URLs the config gives the database at {@code db}, in config order. */
  List<String> replicasOf(Path db) throws IOException {
    List<String> urls = find(db);
    if (urls == null) {
      throw new IllegalArgumentException("database " + db.toAbsolutePath().normalize() + " is not in config file "
          + file());
    }
    return urls;
  }

  /** Like {@link #replicasOf} but null when the config does not list the database. */
  List<String> find(Path db) throws IOException {
    Path abs = db.toAbsolutePath().normalize();
    AgentConfig cfg = ConfigFile.load(file(), !noExpandEnv);
    for (DatabaseSpec d : cfg.databases()) {
      if (d.path().toAbsolutePath().normalize().equals(abs)) return urls(d.replicas(), abs);
    }
    for (DirectorySpec d : cfg.directories()) {
      if (abs.startsWith(d.dir().toAbsolutePath().normalize())) return urls(d.specFor(abs).replicas(), abs);
    }
    return null;
  }

  private List<String> urls(List<ReplicaSpec> replicas, Path db) {
    if (replicas.isEmpty()) throw new IllegalArgumentException("database " + db + " has no replica in " + file());
    return replicas.stream().map(ReplicaSpec::url).toList();
  }
}
