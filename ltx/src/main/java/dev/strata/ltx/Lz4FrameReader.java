package dev.strata.ltx;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.StreamingXXHash32;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Reads exactly one LZ4 frame and nothing after it: the LTX trailer follows the frame, so unlike lz4-java's
 * {@code LZ4FrameInputStream} this never reads ahead looking for a next frame. Accepts any valid frame with
 * independent blocks (block checksums, content size and other block sizes included).
 */
final class Lz4FrameReader extends InputStream {
  private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
  private static final XXHash32 XXH32 = XXHashFactory.fastestInstance().hash32();

  private final InputStream in;
  private final boolean blockChecksums;
  private final boolean contentChecksum;
  private final StreamingXXHash32 contentHash;
  private final byte[] compressed;
  private final byte[] block;
  private int pos;
  private int limit;
  private boolean ended;

  Lz4FrameReader(InputStream in) throws IOException {
    this.in = in;
    byte[] head = readFully(in, 6);
    if (intLE(head, 0) != Lz4FrameWriter.MAGIC) throw new LtxException("lz4: invalid frame magic");
    int flg = head[4] & 0xFF, bd = head[5] & 0xFF;
    if ((flg >>> 6) != 1) throw new LtxException("lz4: unsupported frame version");
    if ((flg & 0x20) == 0) throw new LtxException("lz4: linked blocks are not supported");
    if ((flg & 0x02) != 0 || (bd & 0x8F) != 0) throw new LtxException("lz4: reserved frame bits set");
    int blockCode = (bd >>> 4) & 0x7;
    if (blockCode < 4) throw new LtxException("lz4: invalid block size code " + blockCode);
    blockChecksums = (flg & 0x10) != 0;
    contentChecksum = (flg & 0x04) != 0;
    int optional = ((flg & 0x08) != 0 ? 8 : 0) + ((flg & 0x01) != 0 ? 4 : 0);
    byte[] descriptor = new byte[2 + optional];
    descriptor[0] = (byte) flg;
    descriptor[1] = (byte) bd;
    System.arraycopy(readFully(in, optional), 0, descriptor, 2, optional);
    int hc = readFully(in, 1)[0] & 0xFF;
    if (hc != ((XXH32.hash(descriptor, 0, descriptor.length, 0) >>> 8) & 0xFF)) {
      throw new LtxException("lz4: frame header checksum mismatch");
    }
    int maxBlock = 1 << (8 + 2 * blockCode);
    compressed = new byte[maxBlock];
    block = new byte[maxBlock];
    contentHash = contentChecksum ? XXHashFactory.fastestInstance().newStreamingHash32(0) : null;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) return 0;
    while (pos == limit) {
      if (ended || !nextBlock()) return -1;
    }
    int n = Math.min(len, limit - pos);
    System.arraycopy(block, pos, b, off, n);
    pos += n;
    return n;
  }

  private boolean nextBlock() throws IOException {
    int size = intLE(readFully(in, 4), 0);
    if (size == 0) {
      ended = true;
      if (contentChecksum && intLE(readFully(in, 4), 0) != contentHash.getValue()) {
        throw new LtxException("lz4: content checksum mismatch");
      }
      return false;
    }
    boolean stored = (size & 0x80000000) != 0;
    int n = size & 0x7FFFFFFF;
    if (n > compressed.length) throw new LtxException("lz4: block of " + n + " bytes exceeds the frame's block size");
    readFully(in, compressed, n);
    if (blockChecksums && intLE(readFully(in, 4), 0) != XXH32.hash(compressed, 0, n, 0)) {
      throw new LtxException("lz4: block checksum mismatch");
    }
    if (stored) {
      System.arraycopy(compressed, 0, block, 0, n);
      limit = n;
    } else {
      try {
        limit = DECOMPRESSOR.decompress(compressed, 0, n, block, 0, block.length);
      } catch (LZ4Exception e) {
        throw new LtxException("lz4: corrupt block");
      }
    }
    pos = 0;
    if (contentChecksum) contentHash.update(block, 0, limit);
    return true;
  }

  static byte[] readFully(InputStream in, int n) throws IOException {
    byte[] b = new byte[n];
    readFully(in, b, n);
    return b;
  }

  static void readFully(InputStream in, byte[] b, int n) throws IOException {
    int got = in.readNBytes(b, 0, n);
    if (got < n) throw new EOFException("unexpected end of file");
  }

  static int intLE(byte[] b, int off) {
    return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
  }
}
