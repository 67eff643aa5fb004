package dev.strata.ltx;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The 100-byte header that starts every LTX file (spec §1.3). All integers are big-endian on disk.
 *
 * @param flags {@link #FLAG_COMPRESS_LZ4} or 0 (format v1); {@link #FLAG_NO_CHECKSUM} in v3 files
 * @param pageSize database page size, a power of two from 512 to 65536
 * @param commit database size in pages after applying this file; 0 means an empty database
 * @param timestamp milliseconds since the Unix epoch
 */
public record LtxHeader(
    int flags,
    int pageSize,
    int commit,
    long minTxid,
    long maxTxid,
    long timestamp,
    long preApplyChecksum,
    long walOffset,
    long walSize,
    int walSalt1,
    int walSalt2,
    long nodeId) {

  /** Size of an encoded header. */
  public static final int SIZE = 100;
  /** Page block is one LZ4 frame. */
  public static final int FLAG_COMPRESS_LZ4 = 0x1;
  /** v3 only: the file carries no database checksums. */
  public static final int FLAG_NO_CHECKSUM = 0x2;
  /** File offset of the SQLite lock page (PENDING_BYTE). */
  public static final long PENDING_BYTE = 0x40000000L;

  static final byte[] MAGIC = {'L', 'T', 'X', '1'};

  /** A header with the common fields; WAL fields and node ID zero. */
  public static LtxHeader of(int flags, int pageSize, int commit, long minTxid, long maxTxid, long timestamp,
      long preApplyChecksum) {
    return new LtxHeader(flags, pageSize, commit, minTxid, maxTxid, timestamp, preApplyChecksum, 0, 0, 0, 0, 0);
  }

  /** True when this file holds the full database (MinTXID 1). */
  public boolean isSnapshot() {
    return minTxid == 1;
  }

  /** True when the page block is LZ4-compressed. */
  public boolean isCompressed() {
    return (flags & FLAG_COMPRESS_LZ4) != 0;
  }

  /** True when the file carries no database checksums (v3 flag {@link #FLAG_NO_CHECKSUM}). */
  public boolean hasNoChecksum() {
    return (flags & FLAG_NO_CHECKSUM) != 0;
  }

  /** The position a database must be at for this file to apply: (MinTXID−1, PreApplyChecksum). */
  public Pos preApplyPos() {
    return new Pos(minTxid - 1, preApplyChecksum);
  }

  /** The lock page number for this header's page size. */
  public int lockPgno() {
    return lockPgno(pageSize);
  }

  /** The page number SQLite never stores data in: the page holding byte 0x40000000. */
  public static int lockPgno(int pageSize) {
    return (int) (PENDING_BYTE / pageSize + 1);
  }

  /** True for 512, 1024, … 65536. */
  public static boolean isValidPageSize(long pageSize) {
    return pageSize >= 512 && pageSize <= 65536 && Long.bitCount(pageSize) == 1;
  }

  /** Returns a copy with other flags. */
  public LtxHeader withFlags(int newFlags) {
    return new LtxHeader(newFlags, pageSize, commit, minTxid, maxTxid, timestamp, preApplyChecksum, walOffset,
        walSize, walSalt1, walSalt2, nodeId);
  }

  /** Checks the v1 rules of spec §1.3; throws with the reference implementation's message. */
  public void validate() throws LtxException {
    validate(LtxFormat.V1);
  }

  /** Checks the header rules of the given format version. */
  public void validate(LtxFormat format) throws LtxException {
    int allowed = format == LtxFormat.V1 ? FLAG_COMPRESS_LZ4 : FLAG_NO_CHECKSUM;
    if ((flags & ~allowed) != 0) throw new LtxException(String.format("invalid flags: 0x%08x", flags));
    if (!isValidPageSize(Integer.toUnsignedLong(pageSize))) {
      throw new LtxException("invalid page size: " + Integer.toUnsignedLong(pageSize));
    }
    if (minTxid == 0) throw new LtxException("minimum transaction id required");
    if (maxTxid == 0) throw new LtxException("maximum transaction id required");
    if (Long.compareUnsigned(minTxid, maxTxid) > 0) {
      throw new LtxException("transaction ids out of order: (" + Long.toUnsignedString(minTxid) + ","
          + Long.toUnsignedString(maxTxid) + ")");
    }
    if (walOffset < 0) throw new LtxException("wal offset cannot be negative: " + walOffset);
    if (walSize < 0) throw new LtxException("wal size cannot be negative: " + walSize);
    boolean salted = walSalt1 != 0 || walSalt2 != 0;
    if (salted && walOffset == 0) throw new LtxException("wal offset required if salt exists");
    if (format == LtxFormat.V1) {
      if (salted && walSize == 0) throw new LtxException("wal size required if salt exists");
      if (walOffset != 0 && walSize == 0) throw new LtxException("wal size required if wal offset exists");
    }
    if (walSize != 0 && walOffset == 0) throw new LtxException("wal offset required if wal size exists");
    if (isSnapshot()) {
      if (preApplyChecksum != 0) throw new LtxException("pre-apply checksum must be zero on snapshots");
    } else if (hasNoChecksum()) {
      if (preApplyChecksum != 0) throw new LtxException("pre-apply checksum not allowed");
    } else {
      if (preApplyChecksum == 0) throw new LtxException("pre-apply checksum required on non-snapshot files");
      if (!Checksum.isValid(preApplyChecksum)) throw new LtxException("invalid pre-apply checksum format");
    }
  }

  /** The 100 bytes as stored. */
  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(SIZE);
    b.put(MAGIC).putInt(flags).putInt(pageSize).putInt(commit).putLong(minTxid).putLong(maxTxid)
        .putLong(timestamp).putLong(preApplyChecksum).putLong(walOffset).putLong(walSize)
        .putInt(walSalt1).putInt(walSalt2).putLong(nodeId);
    return b.array();
  }

  /** Reads a header from its 100 bytes; checks the magic but not the other rules (see {@link #validate()}). */
  public static LtxHeader decode(byte[] bytes) throws LtxException {
    if (bytes.length < SIZE) throw new LtxException("short header: " + bytes.length + " of " + SIZE + " bytes");
    if (!Arrays.equals(bytes, 0, 4, MAGIC, 0, 4)) throw new LtxException("invalid LTX file");
    ByteBuffer b = ByteBuffer.wrap(bytes, 4, SIZE - 4);
    return new LtxHeader(b.getInt(), b.getInt(), b.getInt(), b.getLong(), b.getLong(), b.getLong(), b.getLong(),
        b.getLong(), b.getLong(), b.getInt(), b.getInt(), b.getLong());
  }
}
