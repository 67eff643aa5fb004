package dev.strata.agent.capture;

import dev.strata.ltx.Crc64;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads and writes {@link CaptureState} as one small binary file, replaced atomically (temp file, fsync, rename,
 * directory fsync) so that a crash at any instruction leaves the previous or the new state. A CRC-64 at the end
 * rejects a file that is not exactly what was written.
 */
public final class StateFile {
  private static final byte[] MAGIC = "STRATAST".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  private StateFile() {}

  /** The state stored at {@code file}; null when there is none. Throws when the file is damaged. */
  public static CaptureState read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    }
    if (bytes.length < MAGIC.length + 12 || !Arrays.equals(bytes, 0, 8, MAGIC, 0, 8)) {
      throw new IOException("capture state " + file + ": not a state file");
    }
    long stored = 0;
    for (int i = bytes.length - 8; i < bytes.length; i++) stored = stored << 8 | (bytes[i] & 0xFF);
    if (Crc64.update(0, bytes, 0, bytes.length - 8) != stored) {
      throw new IOException("capture state " + file + ": checksum mismatch");
    }
    try (var in = new DataInputStream(new java.io.ByteArrayInputStream(bytes, 8, bytes.length - 16))) {
      int version = in.readInt();
      if (version != VERSION) throw new IOException("capture state " + file + ": unknown version " + version);
      long txid = in.readLong(), post = in.readLong();
      int pageSize = in.readInt(), commit = in.readInt();
      var db = new FileIdentity(in.readLong(), in.readLong());
      WalPosition wal = null;
      if (in.readBoolean()) {
        wal = new WalPosition(in.readInt(), in.readInt(), in.readInt(), in.readLong(), in.readLong());
      }
      int n = in.readInt();
      int[] pgnos = new int[n];
      long[] sums = new long[n];
      for (int i = 0; i < n; i++) {
        pgnos[i] = in.readInt();
        sums[i] = in.readLong();
      }
      return new CaptureState(txid, post, pageSize, commit, db, wal, new CaptureState.Journal(pgnos, sums));
    }
  }

  /** Replaces the state at {@code file} atomically and durably. */
  public static void write(Path file, CaptureState s) throws IOException {
    var buf = new ByteArrayOutputStream(128 + s.journal().size() * 12);
    try (var out = new DataOutputStream(buf)) {
      out.write(MAGIC);
      out.writeInt(VERSION);
      out.writeLong(s.txid());
      out.writeLong(s.postApplyChecksum());
      out.writeInt(s.pageSize());
      out.writeInt(s.commit());
      out.writeLong(s.database().device());
      out.writeLong(s.database().inode());
      out.writeBoolean(s.wal() != null);
      if (s.wal() != null) {
        WalPosition w = s.wal();
        out.writeInt(w.checkpointSeq());
        out.writeInt(w.salt1());
        out.writeInt(w.salt2());
        out.writeLong(w.frame());
        out.writeLong(w.checksum());
      }
      out.writeInt(s.journal().size());
      for (int i = 0; i < s.journal().size(); i++) {
        out.writeInt(s.journal().pgnos()[i]);
        out.writeLong(s.journal().checksums()[i]);
      }
      out.flush();
      byte[] body = buf.toByteArray();
      out.writeLong(Crc64.update(0, body, 0, body.length));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    AtomicFiles.write(file, buf.toByteArray());
  }
}
