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
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata restore -o OUT REPLICA_URL…} and {@code strata restore DB_PATH}: rebuilds a database from a
 * replica, to its latest state or to a point in time; with several replicas, from the one that reaches furthest. A
 * DB_PATH restores that database from the replicas its config file entry names. Litestream's single-dash long
 * options are accepted.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = {"Restore a database from a replica, to its latest state, a TXID or a time.",
        "The file is rebuilt in <OUT>.tmp, its checksum and SQLite integrity are checked, then it is renamed into "
            + "place. An existing file is never replaced without --force."})
final class RestoreCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "REPLICA_URL|DB_PATH",
      description = {"Replica(s): a path, file://, s3:// or sftp:// URL. With several, the one reaching furthest.",
          "Or a database in the config file: its replicas, restored to that path unless -o is given."})
  List<String> replicas;

  @Option(names = {"-o", "--output", "-output"}, paramLabel = "OUT",
      description = "Database file to write (required with replica URLs).")
  Path output;

  @picocli.CommandLine.Mixin ConfigOption config;

  @Option(names = {"-timestamp", "--timestamp"}, paramLabel = "TIME",
      description = "Restore the last state at or before this RFC 3339 time.")
  String timestamp;

  @Option(names = {"-txid", "--txid"}, paramLabel = "HEX", description = "Restore exactly this TXID (16 hex digits).")
  String txid;

  @Option(names = {"-if-db-not-exists", "--if-db-not-exists"},
      description = "Do nothing (exit 0) when the output file already exists.")
  boolean ifDbNotExists;

  @Option(names = {"-if-replica-exists", "--if-replica-exists"},
      description = "Do nothing (exit 0) when no replica holds a backup.")
  boolean ifReplicaExists;

  @Option(names = {"--force", "-force"}, description = "Replace an existing output file and its -wal and -shm.")
  boolean force;

  @Option(names = {"--dry-run", "-dry-run"}, description = "Print the plan (files, sizes, TXIDs, time) and stop.")
  boolean dryRun;

  @Option(names = {"--integrity-check", "-integrity-check"}, paramLabel = "none|quick|full", defaultValue = "quick",
      description = "SQLite check before the rename (default: quick).")
  String integrityCheck;

  @Option(names = {"-parallelism", "--parallelism"}, paramLabel = "N", defaultValue = "8",
      description = "Files downloaded at once from a remote replica (default: 8).")
  int parallelism;

  @Option(names = {"--json", "-json"}, description = "With --dry-run: print the plan as JSON.")
  boolean json;

  @Option(names = {"-generation", "--generation"}, paramLabel = "ID",
      description = "Litestream 0.3 replica: restore from this generation.")
  String generation;

  @Option(names = {"-index", "--index"}, paramLabel = "HEX",
      description = "Litestream 0.3 replica: restore to the end of this WAL index (hex).")
  String walIndex;

  @Option(names = {"-f", "--follow", "-follow"},
      description = "Follow: keep applying new files from the replica until stopped (a read replica).")
  boolean follow;

  @Option(names = {"--interval", "-interval"}, paramLabel = "DURATION",
      description = "With -f: how often to poll the replica (default: 1s).")
  String interval;

  @Override
  public Integer call() throws IOException {
    if (txid != null && timestamp != null) throw new IllegalArgumentException("-txid and -timestamp exclude each other");
    IntegrityCheck check = IntegrityCheck.parse(integrityCheck);
    Long targetTxid = txid == null ? null : Txid.parse(txid);
    Instant targetTime = timestamp == null ? null : Timestamps.parse(timestamp);
    List<String> urls = new ArrayList<>();
    Path target = output;
    if (output == null) {
      String arg = replicas.getFirst();
      if (replicas.size() != 1 || arg.contains("://") || Files.isDirectory(Path.of(arg))) {
        throw new IllegalArgumentException("-o OUT is required with a replica URL: the database file to write");
      }
      target = Path.of(arg); // DB_PATH: restored in place, from its replicas in the config file
      urls.addAll(config.replicasOf(target));
    } else {
      for (String arg : replicas) {
        // A plain path is a replica directory, unless the config file lists it as a database.
        List<String> configured = !arg.contains("://") && !Files.isDirectory(Path.of(arg)) && config.available()
            ? config.find(Path.of(arg)) : null;
        if (configured != null) urls.addAll(configured);
        else urls.add(arg);
      }
    }
    Path out = target.toAbsolutePath().normalize();
    if (ifDbNotExists && Files.exists(out)) {
      System.err.println("strata: " + out + " exists, nothing restored (-if-db-not-exists)");
      return 0;
    }
    if (follow) return followInto(urls, out, check);
    List<ReplicaClient> clients = new ArrayList<>();
    try {
      for (String url : urls) clients.add(config.open(url));
      Integer litestream = litestream(clients, out, check, targetTxid, targetTime);
      if (litestream != null) return litestream;
      Chosen chosen = choose(clients, targetTxid, targetTime);
      if (chosen == null) {
        if (ifReplicaExists) {
          System.err.println("strata: no backup found, nothing restored (-if-replica-exists)");
          return 0;
        }
        throw new IOException("no backup found in "
            + String.join(", ", clients.stream().map(ReplicaClient::location).toList()));
      }
      if (dryRun) {
        printPlan(chosen);
        return 0;
      }
      RestoreResult r = new RestoreExecutor(chosen.client, new RestoreExecutor.Options(parallelism, check, force,
          RestoreProgress.console())).restore(chosen.plan, out);
      System.out.println("restored " + r.path() + " to TXID " + Txid.format(r.txid())
          + (chosen.plan.timestamp() != 0 ? " (" + Timestamps.format(chosen.plan.timestamp()) + ")" : "")
          + " from " + chosen.client.location() + ", checksum " + Checksum.format(r.checksum()));
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

  /**
   * A replica written by Litestream (0.3 or 0.5, told by its layout) is restored by its own reader; null when every
   * replica is Strata's. Replicas of two layouts under one URL are refused.
   */
  private Integer litestream(List<ReplicaClient> clients, Path out, IntegrityCheck check, Long targetTxid,
      Instant targetTime) throws IOException {
    for (ReplicaClient c : clients) {
      var v = LitestreamCli.detect(c);
      if (v == null) continue;
      if (clients.size() > 1) {
        throw new IllegalArgumentException("restore from a Litestream replica takes one replica URL");
      }
      return LitestreamCli.restore(c, v, LitestreamCli.target(generation, walIndex, targetTxid, targetTime), out,
          check, force, dryRun, json);
    }
    if (generation != null || walIndex != null) {
      throw new IllegalArgumentException("-generation and -index are for Litestream 0.3 replicas");
    }
    return null;
  }

  /** {@code -f}: see {@link FollowCommand}. */
  private int followInto(List<String> urls, Path out, IntegrityCheck check) throws IOException {
    if (txid != null || timestamp != null || dryRun) {
      throw new IllegalArgumentException("-f follows the latest state: it excludes -txid, -timestamp and --dry-run");
    }
    return FollowCommand.run(urls, out, config, interval, check, parallelism, force);
  }

  /** A replica and its plan. */
  record Chosen(ReplicaClient client, RestorePlan plan) {}

  /**
   * Plans on every replica and keeps the plan reaching furthest; null when no replica holds anything. A replica
   * that fails is reported; when all fail, the first failure is the error.
   */
  static Chosen choose(List<ReplicaClient> clients, Long txid, Instant time) throws IOException {
    Chosen best = null;
    Exception firstError = null;
    long furthestListed = 0;
    List<String> failures = new ArrayList<>();
    for (ReplicaClient c : clients) {
      RestorePlanner planner = new RestorePlanner(c);
      if (planner.files().isEmpty()) continue;
      furthestListed = Math.max(furthestListed, planner.files().maxTxid());
      try {
        RestorePlan p = txid != null ? planner.toTxid(txid) : time != null ? planner.toTimestamp(time)
            : planner.latest();
        if (best == null || p.targetTxid() > best.plan.targetTxid()) best = new Chosen(c, p);
      } catch (IOException | IllegalArgumentException e) {
        if (firstError == null) firstError = e;
        failures.add(c.location() + ": " + CliErrors.oneLine(e));
      }
    }
    if (best == null) {
      if (firstError instanceof IOException io) throw io;
      if (firstError instanceof IllegalArgumentException ia) throw ia;
      return null;
    }
    if (!failures.isEmpty() && txid == null && time == null && furthestListed > best.plan.targetTxid()) {
      for (String f : failures) System.err.println("strata: warning: " + f);
    }
    return best;
  }

  private void printPlan(Chosen chosen) throws IOException {
    RestorePlan p = chosen.plan;
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("replica", chosen.client.location());
      m.put("txid", Txid.format(p.targetTxid()));
      if (p.timestamp() != 0) m.put("timestamp", Timestamps.format(p.timestamp()));
      if (p.expectedChecksum() != 0) m.put("checksum", Checksum.format(p.expectedChecksum()));
      m.put("bytes", p.totalBytes());
      m.put("files", FileTable.json(p.files()));
      FileTable.writeJson(System.out, m);
      return;
    }
    System.out.println("replica:  " + chosen.client.location());
    System.out.println("target:   TXID " + Txid.format(p.targetTxid())
        + (p.timestamp() != 0 ? " at " + Timestamps.format(p.timestamp()) : ""));
    if (p.expectedChecksum() != 0) System.out.println("checksum: " + Checksum.format(p.expectedChecksum()));
    System.out.println("range:    " + p.range());
    System.out.println("files:    " + p.files().size() + " (" + FileTable.size(p.totalBytes()) + ")");
    FileTable.print(System.out, p.files());
  }
}
