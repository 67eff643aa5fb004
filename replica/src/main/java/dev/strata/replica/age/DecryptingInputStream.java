package dev.strata.replica.age;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The plaintext of an age payload, decrypted chunk by chunk as it is read, starting at any chunk. Every chunk is
 * authenticated before a byte of it is returned; a payload cut at a chunk boundary, a chunk modified, or bytes after
 * the final chunk are errors naming the file.
 *
 * <p>The ciphertext comes from a stream, or from a local file's channel ({@link #fromChannel}): read there a few
 * chunks at a time into memory outside the heap, where the cipher reads it, so that each byte is copied once (by
 * the kernel) before it is decrypted, instead of three times on its way through a stream and its buffers.
 */
final class DecryptingInputStream extends InputStream {
  /** Chunks read from a channel at once: 256 KiB, which stays in a core's cache while they are decrypted. */
  private static final int CHANNEL_BATCH = 4;

  private final InputStream src; // the stream of ciphertext, or null when reading from a channel
  private final FileChannel channel; // the file read from, or null when reading from a stream
  private final ByteBuffer batch; // with a channel: the ciphertext of the chunks from batchStart
  private final MemorySegment batchSegment;
  private long batchStart = -1;
  private final String name;
  private final long chunks; // when known (the stored size was known), else -1: the end is found by reading
  private final long firstOffset; // with a channel: where chunk 0 starts
  private final long stored; // with a channel: the file's size
  private final PayloadCipher cipher;
  private final byte[] ct;
  private final byte[] pt = new byte[AgeFormat.CHUNK_CT];
  private int pending = -1; // a byte read ahead to learn that a full chunk was not the last
  private int pos, len;
  private long index;
  private final long first;
  private int skip;
  private boolean done;

  /**
   * @param src the stored file positioned at chunk {@code index}
   * @param skip plaintext bytes to drop from the first chunk
   * @param chunks the number of chunks when known, else -1
   */
  DecryptingInputStream(InputStream src, byte[] key, long index, int skip, long chunks, String name) {
    this(src, null, 0, 0, key, index, skip, chunks, name);
  }

  private DecryptingInputStream(InputStream src, FileChannel channel, long firstOffset, long stored, byte[] key,
      long index, int skip, long chunks, String name) {
    this.src = src;
    this.channel = channel;
    this.firstOffset = firstOffset;
    this.stored = stored;
    this.cipher = PayloadCipher.of(key, false);
    this.index = index;
    this.first = index;
    this.skip = skip;
    this.chunks = chunks;
    this.name = name;
    this.ct = channel == null ? new byte[AgeFormat.CHUNK_CT + 1] : null;
    long left = stored - firstOffset - index * AgeFormat.CHUNK_CT; // a small file needs less than a whole batch
    this.batch = channel == null ? null
        : ByteBuffer.allocateDirect((int) Math.clamp(left, 0, CHANNEL_BATCH * AgeFormat.CHUNK_CT));
    this.batchSegment = batch == null ? null : MemorySegment.ofBuffer(batch);
  }

  /**
   * The payload of the age file open on {@code channel} (whose header {@code h} was read), from chunk {@code index}
   * with {@code skip} plaintext bytes dropped; the stream owns the channel. The file's size gives the number of
   * chunks, so the last one is known without reading past it.
   */
  static DecryptingInputStream fromChannel(FileChannel channel, AgeFormat.Header h, byte[] key, long index, int skip,
      String name) throws IOException {
    long stored = channel.size();
    return new DecryptingInputStream(null, channel, h.chunkOffset(0), stored, key, index, skip, h.chunkCount(stored),
        name);
  }

  /** Makes bytes of {@link #pt} available; false at the end of the payload. */
  private boolean fill() throws IOException {
    while (pos >= len) {
      int n = next(pt, 0);
      if (n < 0) return false;
      pos = Math.min(skip, n);
      len = n;
      skip -= pos;
    }
    return true;
  }

  /**
   * Reads, authenticates and decrypts the next chunk into {@code out} from {@code at} (room for a whole chunk);
   * returns its plaintext's length, or -1 at the end of the payload.
   */
  private int next(byte[] out, int at) throws IOException {
    if (done) return -1;
    if (channel != null) return nextFromChannel(out, at);
    int n = 0;
    if (pending >= 0) {
      ct[0] = (byte) pending;
      pending = -1;
      n = 1;
    }
    n += src.readNBytes(ct, n, AgeFormat.CHUNK_CT - n);
    boolean last;
    if (chunks >= 0) {
      last = index == chunks - 1;
      if (!last && n < AgeFormat.CHUNK_CT || last && n == 0) throw truncated();
    } else if (n == AgeFormat.CHUNK_CT) {
      int b = src.read();
      last = b < 0;
      pending = b;
    } else {
      last = true;
    }
    if (n == 0) return noChunk();
    if (n < AgeFormat.TAG) throw truncated();
    int plain = decrypt(last, MemorySegment.ofArray(ct), n, out, at);
    if (last && chunks >= 0 && src.read() >= 0) throw new AgeFileException(name + ": data after the final age chunk");
    return plain;
  }

  /** {@link #next} from the channel: the chunk's ciphertext is in {@link #batch}, read there with its neighbours. */
  private int nextFromChannel(byte[] out, int at) throws IOException {
    if (index >= chunks) return noChunk();
    long start = firstOffset + index * AgeFormat.CHUNK_CT;
    int n = (int) Math.min(AgeFormat.CHUNK_CT, stored - start);
    if (n < AgeFormat.TAG) throw truncated();
    if (batchStart < 0 || start < batchStart || start + n > batchStart + batch.limit()) {
      batch.clear().limit((int) Math.min(batch.capacity(), stored - start));
      while (batch.hasRemaining()) {
        if (channel.read(batch, start + batch.position()) < 0) throw truncated(); // the file shrank
      }
      batchStart = start;
    }
    return decrypt(index == chunks - 1, batchSegment.asSlice(start - batchStart, n), n, out, at);
  }

  /**
   * Where chunk {@link #index} should be there is none: the end (-1) when the stream was opened at an offset at or
   * past the end of the payload, else the payload was cut.
   */
  private int noChunk() throws AgeFileException {
    if (index == first && index > 0) {
      done = true;
      return -1;
    }
    throw truncated();
  }

  /** Authenticates and decrypts chunk {@link #index} from {@code in[0, n)}; returns its plaintext's length. */
  private int decrypt(boolean last, MemorySegment in, int n, byte[] out, int at) throws IOException {
    int plain;
    try {
      plain = cipher.chunk(index, last, in, n, out, at);
    } catch (AgeFileException e) {
      throw new AgeFileException(name + ": " + e.getMessage());
    }
    if (last && plain == 0 && index > 0) throw new AgeFileException(name + ": age payload ends in an empty chunk");
    index++;
    if (last) done = true;
    return plain;
  }

  private AgeFileException truncated() {
    return new AgeFileException(name + ": age payload truncated at chunk " + index);
  }

  @Override
  public int read() throws IOException {
    if (!fill()) return -1;
    return pt[pos++] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int n) throws IOException {
    if (n == 0) return 0;
    if (pos >= len && skip == 0 && n >= AgeFormat.CHUNK) {
      // A whole chunk fits: decrypted straight into the reader's array (a restore's snapshot comes this way), one
      // copy of every byte less.
      int k;
      while ((k = next(b, off)) == 0) {} // an empty final chunk ends the payload at the next call
      return k;
    }
    if (!fill()) return -1;
    int k = Math.min(n, len - pos);
    System.arraycopy(pt, pos, b, off, k);
    pos += k;
    return k;
  }

  @Override
  public void close() throws IOException {
    cipher.close();
    if (src != null) src.close();
    if (channel != null) channel.close();
  }
}
