package dev.strata.ltx;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Reads exactly one LZ4 frame and nothing after it: the LTX trailer (v1) or the next page (v2/v3) follows the
 * frame, so unlike lz4-java's {@code LZ4FrameInputStream} this never reads ahead looking for a next frame. Accepts
 * any valid frame with independent blocks (block checksums, content size and other block sizes included).
 *
 * <p>Call {@link #open()} before reading each frame; the buffers are reused from frame to frame. {@link #forFiles()}
 * reads files that each hold one frame (Litestream 0.3's snapshots and WAL segments) one after another with the same
 * buffers, where lz4-java's stream allocates two buffers of the block size (up to 8 MiB) for every file.
 */
public final class Lz4FrameReader extends InputStream {
  static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
  private static final XXHash32 XXH32 = XXHashFactory.fastestInstance().hash32();
  private static final byte[] NONE = new byte[0];

  private InputStream in;
  private final boolean verifyChecksums; // the frame's own block and content checksums
  private boolean wholeFile; // the frame must end where its file ends
  private final ContentHash contentHash = new ContentHash();
  private final byte[] descriptor = new byte[2 + 8 + 4]; // FLG, BD, optional content size and dictionary id
  private final byte[] word = new byte[4];
  private final byte[] one = new byte[1];
  private boolean blockChecksums;
  private boolean contentChecksum;
  private int maxBlock;
  private byte[] compressed = NONE;
  private byte[] block = NONE;
  private int pos;
  private int limit;
  private boolean ended = true;

  Lz4FrameReader(InputStream in) {
    this(in, true);
  }

  /**
   * A reader that skips the frame's block and content checksums when {@code verifyChecksums} is false: for a caller
   * that checks every byte of the content with a checksum of its own (an LTX file's CRC-64 covers all its page
   * frames), they only cost a second pass over the data.
   */
  Lz4FrameReader(InputStream in, boolean verifyChecksums) {
    this.in = in;
    this.verifyChecksums = verifyChecksums;
  }

  /** A reader of files that each hold one LZ4 frame and nothing else: {@link #open(InputStream)} one at a time. */
  public static Lz4FrameReader forFiles() {
    return new Lz4FrameReader(null);
  }

  /**
   * Starts on {@code file}, which must hold exactly one frame: reading past the frame's end mark finds the file's
   * end, or fails. The caller closes {@code file}.
   */
  public Lz4FrameReader open(InputStream file) throws IOException {
    in = file;
    wholeFile = true;
    open();
    return this;
  }

  /** Reads the header of the frame that starts at the current position of the underlying stream. */
  void open() throws IOException {
    readFully(in, word, 4);
    if (intLE(word, 0) != Lz4FrameWriter.MAGIC) throw new LtxException("lz4: invalid frame magic");
    readFully(in, descriptor, 2);
    int flg = descriptor[0] & 0xFF, bd = descriptor[1] & 0xFF;
    if ((flg >>> 6) != 1) throw new LtxException("lz4: unsupported frame version");
    if ((flg & 0x20) == 0) throw new LtxException("lz4: linked blocks are not supported");
    if ((flg & 0x02) != 0 || (bd & 0x8F) != 0) throw new LtxException("lz4: reserved frame bits set");
    int blockCode = (bd >>> 4) & 0x7;
    if (blockCode < 4) throw new LtxException("lz4: invalid block size code " + blockCode);
    blockChecksums = (flg & 0x10) != 0;
    contentChecksum = (flg & 0x04) != 0;
    int optional = ((flg & 0x08) != 0 ? 8 : 0) + ((flg & 0x01) != 0 ? 4 : 0);
    readFully(in, descriptor, 2, optional);
    readFully(in, word, 1);
    if ((word[0] & 0xFF) != ((XXH32.hash(descriptor, 0, 2 + optional, 0) >>> 8) & 0xFF)) {
      throw new LtxException("lz4: frame header checksum mismatch");
    }
    // The buffers grow to what the blocks need, up to this: a small file's frame needs a few KiB, not 2 × 64 KiB
    // (or 2 × 4 MiB) for every file read.
    maxBlock = 1 << (8 + 2 * blockCode); // 64 KiB … 4 MiB
    contentHash.reset();
    pos = limit = 0;
    ended = false;
  }

  @Override
  public int read() throws IOException {
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
    readFully(in, word, 4);
    int size = intLE(word, 0);
    if (size == 0) {
      ended = true;
      if (contentChecksum) {
        readFully(in, word, 4);
        if (verifyChecksums && intLE(word, 0) != contentHash.value()) {
          throw new LtxException("lz4: content checksum mismatch");
        }
      }
      if (wholeFile && in.read() >= 0) throw new LtxException("lz4: data after the end of the frame");
      return false;
    }
    boolean stored = (size & 0x80000000) != 0;
    int n = size & 0x7FFFFFFF;
    if (n > maxBlock) throw new LtxException("lz4: block of " + n + " bytes exceeds the frame's block size");
    if (contentChecksum && verifyChecksums) contentHash.release(); // the block buffer is about to be reused
    if (compressed.length < n) compressed = new byte[Math.max(n, Math.min(maxBlock, 2 * compressed.length))];
    readFully(in, compressed, n);
    if (blockChecksums) {
      readFully(in, word, 4);
      if (verifyChecksums && intLE(word, 0) != XXH32.hash(compressed, 0, n, 0)) {
        throw new LtxException("lz4: block checksum mismatch");
      }
    }
    if (stored) {
      if (block.length < n) block = new byte[Math.max(n, Math.min(maxBlock, 2 * block.length))];
      System.arraycopy(compressed, 0, block, 0, n);
      limit = n;
    } else {
      limit = decompress(n);
    }
    pos = 0;
    if (contentChecksum && verifyChecksums) contentHash.add(block, 0, limit);
    return true;
  }

  /**
   * Decompresses the block of {@code n} bytes in {@link #compressed} into {@link #block}. A first guess of its size is
   * eight times {@code n}, which covers pages of a database; a block that needs more (pages of zeros) grows the
   * buffer to the frame's block size, once per reader.
   */
  private int decompress(int n) throws LtxException {
    if (block.length < Math.min(maxBlock, 8 * n)) block = new byte[Math.min(maxBlock, Math.max(8 * n, 16 * 1024))];
    while (true) {
      try {
        return DECOMPRESSOR.decompress(compressed, 0, n, block, 0, block.length);
      } catch (LZ4Exception e) {
        // Too small a buffer and a corrupt block fail alike: only at the frame's block size is it corrupt.
        if (block.length >= maxBlock) throw new LtxException("lz4: corrupt block");
        block = new byte[maxBlock];
      }
    }
  }

  static void readFully(InputStream in, byte[] b, int n) throws IOException {
    readFully(in, b, 0, n);
  }

  static void readFully(InputStream in, byte[] b, int off, int n) throws IOException {
    if (in.readNBytes(b, off, n) < n) throw new EOFException("unexpected end of file");
  }

  static int intLE(byte[] b, int off) {
    return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
  }
}
