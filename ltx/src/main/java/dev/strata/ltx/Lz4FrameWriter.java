package dev.strata.ltx;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Writes one LZ4 frame with the parameters of superfly/ltx v0.3 (pierrec/lz4): independent 64 KiB blocks, no block
 * checksums, a content checksum, no content size. {@link #finish()} ends the frame without closing the target, so
 * that the LTX trailer can follow it.
 */
final class Lz4FrameWriter extends OutputStream {
  static final int MAGIC = 0x184D2204;
  static final int BLOCK_SIZE = 64 * 1024;
  private static final byte FLG = 0x64; // version 01, block independence, content checksum
  private static final byte BD = 0x40; // 64 KiB max block size
  private static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();
  private static final XXHashFactory XXHASH = XXHashFactory.fastestInstance();

  private final OutputStream out;
  // Both buffers grow with what is written, up to a block: a small file's frame needs a few KiB, not 128.
  private byte[] block = new byte[4096];
  private byte[] compressed = new byte[0];
  private final ContentHash contentHash = new ContentHash();
  private int blockLen;
  private boolean finished;

  Lz4FrameWriter(OutputStream out) throws IOException {
    this.out = out;
    byte hc = (byte) ((XXHASH.hash32().hash(new byte[] {FLG, BD}, 0, 2, 0) >>> 8) & 0xFF);
    byte[] header = new byte[7];
    putIntLE(header, 0, MAGIC);
    header[4] = FLG;
    header[5] = BD;
    header[6] = hc;
    out.write(header);
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(len, BLOCK_SIZE - blockLen);
      if (blockLen + n > block.length) {
        block = Arrays.copyOf(block, Math.min(BLOCK_SIZE, Math.max(blockLen + n, 2 * block.length)));
      }
      System.arraycopy(b, off, block, blockLen, n);
      blockLen += n;
      off += n;
      len -= n;
      if (blockLen == BLOCK_SIZE) {
        writeBlock();
        contentHash.release(); // the buffer is filled again
      }
    }
  }

  private void writeBlock() throws IOException {
    if (blockLen == 0) return;
    contentHash.add(block, 0, blockLen);
    int bound = 4 + COMPRESSOR.maxCompressedLength(blockLen);
    if (compressed.length < bound) compressed = new byte[bound];
    int n = COMPRESSOR.compress(block, 0, blockLen, compressed, 4, compressed.length - 4);
    if (n >= blockLen) { // incompressible: store raw, flagged by bit 31 of the size
      putIntLE(compressed, 0, blockLen | 0x80000000);
      out.write(compressed, 0, 4);
      out.write(block, 0, blockLen);
    } else {
      putIntLE(compressed, 0, n);
      out.write(compressed, 0, 4 + n);
    }
    blockLen = 0;
  }

  /** Writes the last block, the end mark and the content checksum. Does not close the target. */
  void finish() throws IOException {
    if (finished) return;
    finished = true;
    writeBlock();
    byte[] end = new byte[8];
    putIntLE(end, 4, contentHash.value());
    out.write(end);
  }

  @Override
  public void close() throws IOException {
    finish();
  }

  static void putIntLE(byte[] b, int off, int v) {
    b[off] = (byte) v;
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) (v >>> 16);
    b[off + 3] = (byte) (v >>> 24);
  }
}
