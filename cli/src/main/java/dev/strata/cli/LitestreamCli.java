package dev.strata.cli;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.litestream.Litestream;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestoreProgress;
import dev.strata.replica.restore.RestoreResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The commands' handling of replicas written by Litestream (0.3 generations, 0.5 LTX levels): restore,
 * {@code --dry-run}, restore points and snapshots. Kept apart so that the commands only call in.
 */
final class LitestreamCli {
  private LitestreamCli() {}

  /** The Litestream layout of the replica, null for Strata's; a root with two layouts is an error naming both. */
  static Litestream.Version detect(ReplicaClient client) throws IOException {
    return Litestream.detect(client);
  }

  /** {@code strata restore} of a Litestream replica: planned, built in OUT.tmp, checked, renamed. */
  static int restore(ReplicaClient client, Litestream.Version v, Litestream.Target target, Path out,
      IntegrityCheck check, boolean force, boolean dryRun, boolean json) throws IOException {
    Litestream.Prepared p = Litestream.prepare(client, v, target);
    if (dryRun) {
      printPlan(System.out, client, p, json);
      return 0;
    }
    RestoreResult r = new RestoreExecutor(client, new RestoreExecutor.Options(1, check, force,
        RestoreProgress.console())).restoreBuilt(out, p.builder());
    System.out.println("restored " + r.path() + " from " + p.description() + " at " + client.location()
        + (r.checksum() == 0 ? "" : ", checksum " + Checksum.format(r.checksum())));
    return 0;
  }

  private static void printPlan(PrintStream o, ReplicaClient client, Litestream.Prepared p, boolean json)
      throws IOException {
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("replica", client.location());
      m.put("layout", p.version().label());
      m.put("position", p.position());
      if (p.txid() != 0) m.put("txid", Txid.format(p.txid()));
      m.put("timestamp", Timestamps.format(p.time().toEpochMilli()));
      m.put("bytes", p.bytes());
      List<Map<String, Object>> files = new ArrayList<>();
      for (int i = 0; i < p.files().size(); i++) files.add(Map.of("path", p.files().get(i), "size", p.sizes().get(i)));
      m.put("files", files);
      FileTable.writeJson(o, m);
      return;
    }
    o.println("replica:  " + client.location() + " (" + p.version().label() + ")");
    o.println("target:   " + p.position() + " at " + Timestamps.format(p.time().toEpochMilli()));
    o.println("files:    " + p.files().size() + " (" + FileTable.size(p.bytes()) + ")");
    for (int i = 0; i < p.files().size(); i++) o.printf("  %10d  %s%n", p.sizes().get(i), p.files().get(i));
  }

  /**
   * {@code strata replicate}: a replica URL that holds a Litestream layout is refused before anything starts, with
   * a message that names {@code strata import}.
   */
  static void refuseLitestreamTargets(dev.strata.agent.config.AgentConfig cfg) {
    List<dev.strata.agent.ReplicaSpec> specs = new ArrayList<>();
    for (var d : cfg.databases()) specs.addAll(d.replicas());
    for (var d : cfg.directories()) specs.addAll(d.replicas());
    for (var r : specs) {
      try (ReplicaClient c = dev.strata.replica.ReplicaUrl.open(r.url())) {
        Litestream.refuseAsTarget(c);
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().contains("strata import")) {
          throw new IllegalArgumentException(e.getMessage());
        }
        // unreachable now: the agent retries, and checks again when it lists the replica
      }
    }
  }

  /** {@code strata restore-points} of a Litestream replica. */
  static void points(ReplicaClient client, Litestream.Version v, boolean json) throws IOException {
    print(Litestream.points(client, v), v, json);
  }

  /** {@code strata snapshots} of a Litestream replica. */
  static void snapshots(ReplicaClient client, Litestream.Version v, boolean json) throws IOException {
    print(Litestream.snapshots(client, v), v, json);
  }

  private static void print(List<Litestream.Prepared> points, Litestream.Version v, boolean json)
      throws IOException {
    if (json) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (Litestream.Prepared p : points) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layout", v.label());
        m.put("position", p.position());
        if (p.txid() != 0) m.put("txid", Txid.format(p.txid()));
        m.put("timestamp", Timestamps.format(p.time().toEpochMilli()));
        m.put("files", p.files().size());
        m.put("last", p.files().getLast());
        out.add(m);
      }
      FileTable.writeJson(System.out, out);
      return;
    }
    System.out.println(v.label() + " replica: " + points.size() + (points.size() == 1 ? " point" : " points"));
    System.out.printf("%-24s  %5s  %s%n", "TIMESTAMP", "FILES", "POSITION");
    for (Litestream.Prepared p : points) {
      System.out.printf("%-24s  %5d  %s%n", Timestamps.format(p.time().toEpochMilli()), p.files().size(),
          p.position());
    }
  }

  /** Parses {@code -index}: a WAL index in hex, as Litestream names its files. */
  static Integer parseIndex(String s) {
    if (s == null) return null;
    try {
      return Integer.parseUnsignedInt(s.startsWith("0x") ? s.substring(2) : s, 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("-index: not a hexadecimal WAL index: " + s);
    }
  }

  /** The restore target from the command's options. */
  static Litestream.Target target(String generation, String index, Long txid, Instant time) {
    return new Litestream.Target(generation, parseIndex(index), txid, time);
  }
}
