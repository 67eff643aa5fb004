package dev.strata.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Prints replica files as an aligned table or as JSON, for {@code ltx}, {@code snapshots} and restore plans. */
final class FileTable {
  private FileTable() {}

  /** One row per file: level, TXID range, size, header timestamp (if known), when stored. */
  static void print(PrintStream out, List<LtxFileMeta> files) {
    out.printf("%-5s  %-16s  %-16s  %10s  %-24s  %s%n", "LEVEL", "MIN_TXID", "MAX_TXID", "SIZE", "TIMESTAMP",
        "CREATED");
    for (LtxFileMeta f : files) {
      out.printf("%-5d  %s  %s  %10s  %-24s  %s%n", f.level(), Txid.format(f.minTxid()), Txid.format(f.maxTxid()),
          size(f.size()), f.hasHeader() ? Timestamps.format(f.timestamp()) : "-",
          f.createdAt() == null ? "-" : Timestamps.format(f.createdAt()));
    }
  }

  /** The JSON form of one file. */
  static Map<String, Object> json(LtxFileMeta f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("level", f.level());
    m.put("minTXID", Txid.format(f.minTxid()));
    m.put("maxTXID", Txid.format(f.maxTxid()));
    m.put("size", f.size());
    if (f.hasHeader()) {
      m.put("timestamp", Timestamps.format(f.timestamp()));
      m.put("pageSize", f.pageSize());
      m.put("commit", Integer.toUnsignedLong(f.commit()));
      m.put("preApplyChecksum", Checksum.format(f.preApplyChecksum()));
    }
    if (f.postApplyChecksum() != 0) m.put("postApplyChecksum", Checksum.format(f.postApplyChecksum()));
    if (f.createdAt() != null) m.put("createdAt", Timestamps.format(f.createdAt()));
    return m;
  }

  static List<Map<String, Object>> json(List<LtxFileMeta> files) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (LtxFileMeta f : files) out.add(json(f));
    return out;
  }

  /** Writes a value as indented JSON and a newline. */
  static void writeJson(PrintStream out, Object value) throws IOException {
    out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value));
  }

  static String size(long n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    if (n < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
  }
}
