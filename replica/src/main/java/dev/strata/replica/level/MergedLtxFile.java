package dev.strata.replica.level;

import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ResumableInputStream;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One LTX file merged from replica files (newest page wins): a compaction output, a snapshot, or the export of a
 * restore point. Inputs are read with resumable ranged reads; the output is read back and must verify with the
 * trailer it was written with before anyone stores or serves it.
 */
public final class MergedLtxFile {
  private MergedLtxFile() {}

  /**
   * Merges {@code inputs} (in plan order) into {@code out} and verifies it. With {@code snapshot}, the inputs form
   * a restore plan from a full-database file, and a file may start inside the previous one's range (applying it
   * again is harmless); the output is then a snapshot whose every page checksum is proven by the read-back.
   */
  public static LtxFileInfo write(ReplicaClient client, List<LtxFileMeta> inputs, boolean snapshot, Path out)
      throws IOException {
    List<InputStream> streams = new ArrayList<>(inputs.size());
    for (LtxFileMeta f : inputs) {
      streams.add(new BufferedInputStream(new ResumableInputStream(client, f.level(), f.range()), 64 * 1024));
    }
    LtxFileInfo info;
    try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out), 256 * 1024)) {
      info = new LtxCompactor(LtxHeader.FLAG_COMPRESS_LZ4, snapshot).compact(streams, o);
    } catch (IOException e) {
      throw new IOException("merging " + describe(inputs) + ": " + e.getMessage(), e);
    }
    LtxFileInfo check;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(out), 64 * 1024)) {
      check = LtxDecoder.verify(in); // for a snapshot this also proves the database checksum of every page
    }
    if (!check.trailer().equals(info.trailer())) {
      throw new IOException("merging " + describe(inputs) + " wrote a file that reads back differently");
    }
    return info;
  }

  /** "3 files of level 0 (TXIDs …-…)", for messages. */
  static String describe(List<LtxFileMeta> inputs) {
    LtxFileMeta a = inputs.getFirst(), b = inputs.getLast();
    return inputs.size() + " file" + (inputs.size() == 1 ? "" : "s") + " of level "
        + (a.level() == b.level() ? Integer.toString(a.level()) : a.level() + ".." + b.level()) + " (TXIDs "
        + Txid.format(a.minTxid()) + "-" + Txid.format(b.maxTxid()) + ")";
  }
}
