package dev.strata.cli;

import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.config.AgentConfig;
import dev.strata.agent.config.ConfigFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where {@code strata replicate} listens for {@code strata sync} and {@code strata status}: the socket beside the
 * database by default, or what the {@code control:} key of a config file ({@code -config}) says.
 *
 * @param configFile the config file given; null for none
 * @param config its contents; null for none
 */
record ControlSockets(Path configFile, AgentConfig config) {

  /** From a config file, read as {@code strata replicate} reads it; {@code file} null for the defaults. */
  static ControlSockets load(Path file, boolean expandEnv) throws IOException {
    return file == null ? new ControlSockets(null, null) : new ControlSockets(file, ConfigFile.load(file, expandEnv));
  }

  /** The databases named, or with none named, the one a config lists (all of them when {@code several}). */
  List<Path> databases(List<Path> named, boolean several) {
    if (!named.isEmpty()) return named;
    if (config == null) throw new IllegalArgumentException("give a database (or -config FILE)");
    List<Path> listed = config.databases().stream().map(DatabaseSpec::path).toList();
    if (listed.isEmpty()) throw new IllegalArgumentException(configFile + " lists no database by path");
    if (!several && listed.size() > 1) {
      throw new IllegalArgumentException(configFile + " lists " + listed.size() + " databases: give one");
    }
    return listed;
  }

  /** The socket of {@code db}; a one-line {@link IllegalArgumentException} when the config has none for it. */
  Path socketFor(Path db) {
    if (config == null) return DatabaseSpec.defaultControlSocket(db);
    Path abs = db.toAbsolutePath().normalize();
    for (DatabaseSpec d : config.databases()) {
      if (!d.path().equals(abs)) continue;
      if (d.controlSocket() == null) {
        throw new IllegalArgumentException(db + ": its control socket is turned off in " + configFile
            + " (control: off); POST /sync on addr: still answers");
      }
      return d.controlSocket();
    }
    throw new IllegalArgumentException(db + " is not listed by path in " + configFile);
  }
}
