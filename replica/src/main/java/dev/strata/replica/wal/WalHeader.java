package dev.strata.replica.wal;

import java.nio.ByteBuffer;

/**
 * The 32-byte header of a SQLite WAL file (fileformat2.html §4.1). All fields are big-endian; the magic's low bit
 * says in which byte order the checksums read the content.
 *
 * <p>A WAL <em>generation</em> is the run of frames written under one header. SQLite starts a new one when it
 * restarts the WAL after a complete checkpoint: it increments {@code salt1} by one and draws a new random
 * {@code salt2}, so frames of the previous generation stop matching. {@code checkpointSeq} is the restarting
 * connection's own restart count, not the file's: with several connections it repeats or goes back.
 */
public record WalHeader(
    boolean bigEndianChecksum,
    int pageSize,
    int checkpointSeq,
    int salt1,
    int salt2,
    int checksum1,
    int checksum2) {

  /** Size of the header. */
  public static final int SIZE = 32;
  /** The only WAL format version SQLite writes. */
  public static final int VERSION = 3007000;

  private static final int MAGIC = 0x377f0682;

  /** Bytes per frame: the 24-byte frame header and one page. */
  public int frameSize() {
    return WalFrameHeader.SIZE + pageSize;
  }

  /** File offset of frame {@code n} (1-based). */
  public long frameOffset(long n) {
    return SIZE + (n - 1) * frameSize();
  }

  /** The checksum that seeds frame 1's cumulative checksum. */
  public long checksum() {
    return WalChecksum.of(checksum1, checksum2);
  }

  /** True when frames carrying these salts belong to this generation. */
  public boolean saltsMatch(int s1, int s2) {
    return salt1 == s1 && salt2 == s2;
  }

  /**
   * Decodes and checks a header: magic, version, page size and the header checksum. Throws {@link WalException}
   * naming the check that failed.
   */
  public static WalHeader decode(byte[] b) throws WalException {
    if (b.length < SIZE) throw new WalException("wal header too short: " + b.length + " bytes");
    ByteBuffer buf = ByteBuffer.wrap(b, 0, SIZE);
    int magic = buf.getInt();
    if ((magic & ~1) != MAGIC) throw new WalException(String.format("wal header: bad magic 0x%08x", magic));
    boolean bigEndian = (magic & 1) == 1;
    int version = buf.getInt();
    if (version != VERSION) throw new WalException("wal header: unsupported format version " + version);
    int pageSize = buf.getInt();
    if (pageSize < 512 || pageSize > 65536 || Integer.bitCount(pageSize) != 1) {
      throw new WalException("wal header: invalid page size " + pageSize);
    }
    int seq = buf.getInt(), salt1 = buf.getInt(), salt2 = buf.getInt(), c1 = buf.getInt(), c2 = buf.getInt();
    long sum = WalChecksum.update(0, b, 0, 24, bigEndian);
    if (WalChecksum.first(sum) != c1 || WalChecksum.second(sum) != c2) {
      throw new WalException("wal header: checksum mismatch");
    }
    return new WalHeader(bigEndian, pageSize, seq, salt1, salt2, c1, c2);
  }

  /** The 32 bytes as SQLite writes them (with a correct header checksum); used by tests and tools. */
  public static byte[] encode(boolean bigEndian, int pageSize, int checkpointSeq, int salt1, int salt2) {
    ByteBuffer buf = ByteBuffer.allocate(SIZE);
    buf.putInt(MAGIC | (bigEndian ? 1 : 0)).putInt(VERSION).putInt(pageSize).putInt(checkpointSeq)
        .putInt(salt1).putInt(salt2);
    long sum = WalChecksum.update(0, buf.array(), 0, 24, bigEndian);
    buf.putInt(WalChecksum.first(sum)).putInt(WalChecksum.second(sum));
    return buf.array();
  }
}
