package dev.strata.replica.follow;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.io.StringReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Properties;

/**
 * What a follower keeps beside its output, in {@code <db>-strata-follow}: the TXID and database checksum the file
 * holds, the source's first 100 bytes of page 1 (the file's own page 1 is in legacy form with its own change
 * counter), and, while a batch is being applied, the same for the batch (so that a follower killed after the
 * commit point but before this file was rewritten knows which of the two the file holds).
 */
record FollowState(Point committed, Point pending) {
  /** One state of the database. */
  record Point(long txid, long checksum, byte[] header) {}

  static Path pathFor(Path db) {
    return db.resolveSibling(db.getFileName() + "-strata-follow");
  }

  /** Reads the state file; null when there is none. */
  static FollowState read(Path db) throws IOException {
    Path p = pathFor(db);
    if (!Files.exists(p)) return null;
    Properties props = new Properties();
    props.load(new StringReader(Files.readString(p, StandardCharsets.UTF_8)));
    try {
      Point committed = point(props, "");
      Point pending = props.containsKey("pending.txid") ? point(props, "pending.") : null;
      return new FollowState(committed, pending);
    } catch (RuntimeException e) {
      throw new IOException("unreadable follow state " + p + ": " + e.getMessage(), e);
    }
  }

  private static Point point(Properties props, String prefix) {
    return new Point(Txid.parse(props.getProperty(prefix + "txid")),
        Checksum.parse(props.getProperty(prefix + "checksum")),
        HexFormat.of().parseHex(props.getProperty(prefix + "header")));
  }

  /**
   * Writes the state file atomically (temporary file, rename). Not fsynced: after a power loss the file may hold
   * an older state or none, which the follower detects (the database checksum does not match) and repairs by
   * applying the latest state as a snapshot; a killed process loses nothing written.
   */
  void write(Path db) throws IOException {
    StringBuilder s = new StringBuilder("# strata restore -f: the state of the database beside this file\n");
    append(s, "", committed);
    if (pending != null) append(s, "pending.", pending);
    Path p = pathFor(db);
    Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(s.toString().getBytes(StandardCharsets.UTF_8)));
    }
    Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void append(StringBuilder s, String prefix, Point p) {
    s.append(prefix).append("txid=").append(Txid.format(p.txid())).append('\n');
    s.append(prefix).append("checksum=").append(Checksum.format(p.checksum())).append('\n');
    s.append(prefix).append("header=").append(HexFormat.of().formatHex(p.header())).append('\n');
  }
}
