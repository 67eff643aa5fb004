package dev.strata.agent.config;

import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.DirectorySpec;
import java.util.List;

/**
 * A parsed configuration file.
 *
 * @param addr where to serve Prometheus metrics ({@code host:port} or {@code :port}); null for none
 * @param exec a command to run as a child process; null for none
 * @param logLevel {@code logging.level}; null when not set
 */
public record AgentConfig(
    List<DatabaseSpec> databases, List<DirectorySpec> directories, String addr, String exec, String logLevel) {}
