package dev.strata.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata ltx}: list a replica's LTX files ({@code strata ltx URL}, as Litestream's {@code ltx}, or
 * {@code strata ltx ls URL}), and inspect or verify single LTX files.
 */
@Command(name = "ltx", description = "List a replica's LTX files, or inspect LTX files.",
    mixinStandardHelpOptions = true, subcommands = {LtxCommand.Ls.class, LtxCommand.Dump.class,
        LtxCommand.Verify.class})
final class LtxCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "REPLICA_URL|DB_PATH",
      description = "Replica to list (same as ltx ls), or a database whose replica the config names.")
  String url;

  @picocli.CommandLine.Mixin ListOptions list;

  @Override
  public Integer call() throws IOException {
    if (url == null) {
      spec.commandLine().usage(System.out);
      return 0;
    }
    return list.print(url);
  }

  /** {@code -level} and {@code --json}, shared by {@code ltx URL} and {@code ltx ls URL}. */
  static final class ListOptions {
    @Option(names = {"-level", "--level"}, paramLabel = "N|all", defaultValue = "all",
        description = "Level to list, 0-9 or all (default: all).")
    String level;

    @Option(names = {"--json", "-json"}, description = "Print JSON.") boolean json;

    @picocli.CommandLine.Mixin ConfigOption config;

    int print(String url) throws IOException {
      List<Integer> levels = new ArrayList<>();
      if (level.equalsIgnoreCase("all")) {
        for (int l = 0; l <= ReplicaClient.MAX_LEVEL; l++) levels.add(l);
      } else {
        try {
          levels.add(ReplicaClient.checkLevel(Integer.parseInt(level)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("invalid level \"" + level + "\" (want 0-9 or all)");
        }
      }
      List<LtxFileMeta> files = new ArrayList<>();
      try (ReplicaClient client = ReplicaArgument.open(url, config)) {
        for (int l : levels) files.addAll(client.listFiles(l));
      }
      if (json) FileTable.writeJson(System.out, FileTable.json(files));
      else FileTable.print(System.out, files);
      return 0;
    }
  }

  /** {@code strata ltx ls URL}: the files of a replica, level by level. */
  @Command(name = "ls", description = "List a replica's LTX files, level by level.", mixinStandardHelpOptions = true)
  static final class Ls implements Callable<Integer> {
    @Parameters(paramLabel = "REPLICA_URL|DB_PATH", description = "Replica: a path, file://, s3:// or sftp:// URL; or a database file, whose replica the config names.")
    String url;

    @picocli.CommandLine.Mixin ListOptions list;

    @Override
    public Integer call() throws IOException {
      return list.print(url);
    }
  }

  /** {@code strata ltx dump FILE}: header, pages and trailer. */
  @Command(name = "dump", description = "Print an LTX file's header, pages and trailer.",
      mixinStandardHelpOptions = true)
  static final class Dump implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "LTX file") Path file;

    @Option(names = "--json", description = "Print JSON.") boolean json;

    @Override
    public Integer call() throws IOException {
      List<Map<String, Object>> pages = new ArrayList<>();
      LtxHeader h;
      LtxTrailer t;
      String error = null;
      try (LtxDecoder d = new LtxDecoder(Files.newInputStream(file))) {
        h = d.header();
        byte[] buf = new byte[h.pageSize()];
        try {
          for (int pgno; (pgno = d.readPage(buf)) != 0; ) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("pgno", Integer.toUnsignedLong(pgno));
            p.put("checksum", Checksum.format(Checksum.ofPage(pgno, buf)));
            pages.add(p);
          }
          t = d.finish();
        } catch (LtxException e) {
          t = null;
          error = e.getMessage();
        }
      }
      if (json) printJson(h, pages, t, error);
      else printTable(h, pages, t, error);
      if (error != null) {
        System.err.println("strata: " + file + ": " + error);
        return 1;
      }
      return 0;
    }

    private void printTable(LtxHeader h, List<Map<String, Object>> pages, LtxTrailer t, String error) {
      PrintStream o = System.out;
      o.println("Header");
      o.printf("  %-20s 0x%08x%n", "flags", h.flags());
      o.printf("  %-20s %d%n", "page size", h.pageSize());
      o.printf("  %-20s %d%n", "commit", Integer.toUnsignedLong(h.commit()));
      o.printf("  %-20s %s%n", "min txid", Txid.format(h.minTxid()));
      o.printf("  %-20s %s%n", "max txid", Txid.format(h.maxTxid()));
      o.printf("  %-20s %s (%d)%n", "timestamp", Timestamps.format(h.timestamp()), h.timestamp());
      o.printf("  %-20s %s%n", "pre-apply checksum", Checksum.format(h.preApplyChecksum()));
      o.printf("  %-20s %d%n", "wal offset", h.walOffset());
      o.printf("  %-20s %d%n", "wal size", h.walSize());
      o.printf("  %-20s %08x %08x%n", "wal salt", h.walSalt1(), h.walSalt2());
      o.printf("  %-20s %d%n", "node id", h.nodeId());
      o.println();
      o.printf("Pages (%d)%n", pages.size());
      o.printf("  %10s  %s%n", "pgno", "checksum");
      for (Map<String, Object> p : pages) o.printf("  %10d  %s%n", p.get("pgno"), p.get("checksum"));
      o.println();
      o.println("Trailer");
      if (t != null) {
        o.printf("  %-20s %s%n", "post-apply checksum", Checksum.format(t.postApplyChecksum()));
        o.printf("  %-20s %s%n", "file checksum", Checksum.format(t.fileChecksum()));
      } else {
        o.printf("  %-20s %s%n", "error", error);
      }
    }

    private void printJson(LtxHeader h, List<Map<String, Object>> pages, LtxTrailer t, String error)
        throws IOException {
      Map<String, Object> header = new LinkedHashMap<>();
      header.put("flags", h.flags());
      header.put("pageSize", h.pageSize());
      header.put("commit", Integer.toUnsignedLong(h.commit()));
      header.put("minTXID", Txid.format(h.minTxid()));
      header.put("maxTXID", Txid.format(h.maxTxid()));
      header.put("timestamp", Timestamps.format(h.timestamp()));
      header.put("preApplyChecksum", Checksum.format(h.preApplyChecksum()));
      header.put("walOffset", h.walOffset());
      header.put("walSize", h.walSize());
      header.put("walSalt1", Integer.toUnsignedLong(h.walSalt1()));
      header.put("walSalt2", Integer.toUnsignedLong(h.walSalt2()));
      header.put("nodeID", h.nodeId());
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("file", file.toString());
      root.put("header", header);
      root.put("pages", pages);
      if (t != null) {
        root.put("trailer", Map.of("postApplyChecksum", Checksum.format(t.postApplyChecksum()),
            "fileChecksum", Checksum.format(t.fileChecksum())));
      }
      if (error != null) root.put("error", error);
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(System.out, root);
      System.out.println();
    }
  }

  /** {@code strata ltx verify FILE…}: exit 0 when every checksum of every file holds. */
  @Command(name = "verify", description = "Verify LTX files' checksums; one line per bad file.",
      mixinStandardHelpOptions = true)
  static final class Verify implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "LTX files") List<Path> files;

    @Option(names = {"-q", "--quiet"}, description = "Print only failures.") boolean quiet;

    @Override
    public Integer call() {
      int bad = 0;
      for (Path f : files) {
        try (InputStream in = Files.newInputStream(f)) {
          var info = LtxDecoder.verify(in);
          if (!quiet) {
            System.out.println(f + ": ok (" + Txid.format(info.header().minTxid()) + "-"
                + Txid.format(info.header().maxTxid()) + ", " + info.pageCount() + " pages, post-apply "
                + Checksum.format(info.trailer().postApplyChecksum()) + ")");
          }
        } catch (IOException e) {
          bad++;
          System.out.println(f + ": " + CliErrors.oneLine(e));
        }
      }
      return bad == 0 ? 0 : 1;
    }
  }
}
