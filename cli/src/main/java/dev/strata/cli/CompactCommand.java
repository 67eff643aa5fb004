package dev.strata.cli;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelCompactor;
import dev.strata.replica.level.LevelConfig;
import dev.strata.replica.LtxFileMeta;
import java.io.IOException;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code strata compact URL}: compacts a replica once (every level, then a snapshot, then retention) with the default
 * level settings. It is what a write-only host leaves undone: run it where the age identity is
 * ({@code --age-identity KEY --age-recipient AGE1…}).
 */
@Command(name = "compact", mixinStandardHelpOptions = true,
    description = {"Compact a replica once: each level, a snapshot, then retention (default level settings).",
        "For an encrypted replica written by hosts without the identity: give --age-identity and --age-recipient."})
final class CompactCommand implements Callable<Integer> {
  @Mixin EncryptedReplicaOptions replica;

  @Option(names = {"--no-retention"}, description = "Compact only; delete nothing.")
  boolean noRetention;

  @Override
  public Integer call() throws IOException {
    try (ReplicaClient client = AgeReplicaClient.wrap(replica.open(), dev.strata.replica.age.AgeKeys.NONE)) {
      if (client instanceof AgeReplicaClient a && a.encrypts() && !a.decrypts()) {
        throw new dev.strata.replica.age.AgeKeyException(AgeReplicaClient.NO_IDENTITY);
      }
      LevelConfig config = LevelConfig.defaults();
      LevelCompactor compactor = new LevelCompactor(client, config, InstantSource.system());
      int written = 0;
      for (int n = 1; n <= config.topLevel(); n++) {
        List<LtxFileMeta> out = compactor.compact(n);
        written += out.size();
      }
      LtxFileMeta snapshot = compactor.snapshot();
      int deleted = 0;
      if (!noRetention) {
        for (int level = 0; level <= config.topLevel(); level++) deleted += compactor.retain(level).size();
        deleted += compactor.retain(Level.SNAPSHOT).size();
      }
      System.out.println("compacted " + client.location() + ": " + written + " file" + (written == 1 ? "" : "s")
          + " written" + (snapshot != null ? ", snapshot " + snapshot.path() : "") + ", " + deleted + " deleted");
      return 0;
    }
  }
}
