package dev.strata.cli;

import dev.strata.agent.config.Durations;
import dev.strata.agent.exec.Signals;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.Txid;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.follow.Follower;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreProgress;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code strata restore -f -o OUT URL… [--interval 1s]}: what {@link RestoreCommand} runs with {@code -f}. Restores
 * the latest state (or continues the output a previous run wrote), then applies new files from the replicas as
 * they land until SIGTERM or SIGINT, after which it finishes the batch in progress and exits 0.
 */
final class FollowCommand {
  private FollowCommand() {}

  static int run(List<String> urls, Path out, ConfigOption config, String interval, IntegrityCheck check,
      int parallelism, boolean force) throws IOException {
    Duration every = interval == null ? Duration.ofSeconds(1) : Durations.parse(interval);
    if (every.isNegative() || every.isZero()) throw new IllegalArgumentException("--interval must be positive");
    List<ReplicaClient> clients = new ArrayList<>();
    try {
      for (String url : urls) clients.add(config.open(url));
      try (Follower f = new Follower(clients, out, new Follower.Options(every, parallelism, check, force,
          RestoreProgress.console()))) {
        Signals.onTerminate(sig -> f.stop()); // run() returns after the batch in progress is committed
        f.start();
        System.out.println("following " + out + " at TXID " + Txid.format(f.txid()) + ", checksum "
            + Checksum.format(f.checksum()) + " (polling every " + every.toMillis() + " ms)");
        f.run();
        System.out.println("stopped at TXID " + Txid.format(f.txid()));
      }
      return 0;
    } finally {
      for (ReplicaClient c : clients) {
        try {
          c.close();
        } catch (IOException ignored) {
          // closing after the work is done
        }
      }
    }
  }
}
