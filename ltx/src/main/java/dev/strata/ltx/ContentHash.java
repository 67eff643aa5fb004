package dev.strata.ltx;

import net.jpountz.xxhash.StreamingXXHash32;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The content checksum of an LZ4 frame (XXH32, seed 0, of the uncompressed content), fed block by block.
 *
 * <p>lz4-java's native streaming hash is the fastest, but each instance is native state with a finalizer. Made for
 * every frame read or written, it cost the server one finalizable object per upload and the agent one per commit:
 * work for the garbage collector that outweighs the hashing. Most LTX files are a frame of one block, and that block
 * is hashed in one call here when the frame ends; the streaming hash is made only when a frame has a second block,
 * and is kept for the frames that follow.
 */
final class ContentHash {
  private static final XXHash32 ONE_CALL = XXHashFactory.fastestInstance().hash32();
  private static final byte[] NONE = new byte[0];

  private StreamingXXHash32 streaming;
  private boolean streamed; // the frame's earlier blocks went to the streaming hash
  private byte[] held = NONE; // the latest block, not hashed yet
  private int heldOff, heldLen;

  /** Starts a new frame. */
  void reset() {
    streamed = false;
    held = NONE;
    heldLen = 0;
  }

  /** The frame's next block. Its bytes must stay as they are until {@link #release()} or {@link #value()}. */
  void add(byte[] b, int off, int len) {
    release();
    held = b;
    heldOff = off;
    heldLen = len;
  }

  /** Hashes the block held, whose bytes the caller is about to reuse. */
  void release() {
    if (held == NONE) return;
    if (streaming == null) streaming = XXHashFactory.fastestInstance().newStreamingHash32(0);
    if (!streamed) streaming.reset();
    streaming.update(held, heldOff, heldLen);
    streamed = true;
    held = NONE;
    heldLen = 0;
  }

  /** The checksum of the frame's content so far. */
  int value() {
    if (!streamed) return ONE_CALL.hash(held, heldOff, heldLen, 0);
    release();
    return streaming.getValue();
  }
}
