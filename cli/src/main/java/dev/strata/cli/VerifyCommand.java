package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import dev.strata.replica.restore.RestoreResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata verify URL [--db DB]}: the restore drill as one command. Restores the latest state into a temporary
 * directory (which proves every file of the plan, the checksum chain and SQLite's integrity check), and with
 * {@code --db} compares the source database's checksum with the restored one. Exit 1 on any mismatch.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Restore a replica's latest state into a temporary directory and check it.",
        "With --db, also compare the source database's checksum (exit 1 when it differs: the replica lags "
            + "behind or diverged)."})
final class VerifyCommand implements Callable<Integer> {
  @Parameters(paramLabel = "REPLICA_URL|DB_PATH", description = {"Replica: a path, file://, s3:// or sftp:// URL; or a database file, whose replica the config names.",
      "With DB_PATH the restored state is compared with that database."})
  String url;

  @Option(names = {"--db", "-db"}, paramLabel = "DB_PATH", description = "The source database, to compare.")
  Path db;

  @picocli.CommandLine.Mixin ConfigOption config;

  @Option(names = {"--integrity-check", "-integrity-check"}, paramLabel = "none|quick|full", defaultValue = "full",
      description = "SQLite check of the restored file (default: full).")
  String integrityCheck;

  @Option(names = {"-parallelism", "--parallelism"}, paramLabel = "N", defaultValue = "8",
      description = "Files downloaded at once from a remote replica (default: 8).")
  int parallelism;

  @Option(names = {"--temp-dir"}, paramLabel = "DIR", description = "Where to restore (default: the system's).")
  Path tempDir;

  @Override
  public Integer call() throws IOException {
    IntegrityCheck check = IntegrityCheck.parse(integrityCheck);
    Path dir = tempDir == null ? Files.createTempDirectory("strata-verify-")
        : Files.createTempDirectory(Files.createDirectories(tempDir), "strata-verify-");
    if (db == null && ReplicaArgument.isDatabase(url)) db = Path.of(url);
    try (ReplicaClient client = ReplicaArgument.open(url, config)) {
      RestorePlan plan = new RestorePlanner(client).latest();
      RestoreResult r = new RestoreExecutor(client, new RestoreExecutor.Options(parallelism, check, false,
          RestoreProgress.console())).restore(plan, dir.resolve("verify.db"));
      System.out.println("ok: " + client.location() + " restores to TXID " + Txid.format(r.txid())
          + (plan.timestamp() != 0 ? " (" + Timestamps.format(plan.timestamp()) + ")" : "") + ", "
          + plan.files().size() + " files, " + FileTable.size(r.databaseBytes()) + ", checksum "
          + Checksum.format(r.checksum()) + ", integrity check " + check.name().toLowerCase(java.util.Locale.ROOT));
      if (db == null) return 0;
      LiveDatabase.State source = LiveDatabase.checksum(db);
      if (source.checksum() == r.checksum()) {
        System.out.println("ok: " + db + " has the same checksum");
        return 0;
      }
      System.out.println("MISMATCH: " + db + " has checksum " + Checksum.format(source.checksum()) + " ("
          + source.pages() + " pages), the replica's latest state " + Checksum.format(r.checksum())
          + ": the replica lags behind the database or diverged from it");
      return 1;
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }
}
