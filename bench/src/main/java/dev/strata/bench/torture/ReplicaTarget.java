package dev.strata.bench.torture;

import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * One replica the agent writes to during a run, with the storage faults its backend can suffer. The agent reaches
 * it through {@link #agentUrl()} (through a fault-injecting proxy where there is one); the harness reads it
 * directly, so that its own checks never see the faults.
 */
interface ReplicaTarget extends AutoCloseable {
  /** "file", "s3" or "sftp". */
  String name();

  /** The URL strata replicate writes to. */
  String agentUrl();

  /** The URL restores read from. */
  String restoreUrl();

  /** The harness's own reader of this replica. */
  ReplicaClient client();

  /** The storage faults this target can inject. */
  Set<FaultKind> storageFaults();

  /** Starts a storage fault; returns what it does, for the log. */
  String startFault(FaultKind kind, Random rng) throws IOException;

  /** Ends the running storage fault, if any. */
  void endFault() throws IOException;

  /** Every request so far as "METHOD target -> fault", or null when this backend cannot see them. */
  default List<String> requestLog() {
    return null;
  }

  @Override
  void close() throws IOException;
}
