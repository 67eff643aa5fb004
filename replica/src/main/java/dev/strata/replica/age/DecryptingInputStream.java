package dev.strata.replica.age;

import java.io.IOException;
import java.io.InputStream;

/**
 * The plaintext of an age payload, decrypted chunk by chunk as it is read, starting at any chunk. Every chunk is
 * authenticated before a byte of it is returned; a payload cut at a chunk boundary, a chunk modified, or bytes after
 * the final chunk are errors naming the file.
 */
final class DecryptingInputStream extends InputStream {
  private final InputStream src;
  private final String name;
  private final long chunks; // when known (the stored size was known), else -1: the end is found by reading
  private final PayloadCipher cipher;
  private final byte[] ct = new byte[AgeFormat.CHUNK_CT + 1];
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
    this.src = src;
    this.cipher = PayloadCipher.of(key, false);
    this.index = index;
    this.first = index;
    this.skip = skip;
    this.chunks = chunks;
    this.name = name;
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
    if (n == 0) {
      if (index == first && index > 0) { // an offset at or past the end
        done = true;
        return -1;
      }
      throw truncated();
    }
    if (n < AgeFormat.TAG) throw truncated();
    int plain;
    try {
      plain = cipher.chunk(index, last, ct, n, out, at);
    } catch (AgeFileException e) {
      throw new AgeFileException(name + ": " + e.getMessage());
    }
    if (last && plain == 0 && index > 0) throw new AgeFileException(name + ": age payload ends in an empty chunk");
    index++;
    if (last) {
      done = true;
      if (chunks >= 0 && src.read() >= 0) throw new AgeFileException(name + ": data after the final age chunk");
    }
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
    src.close();
  }
}
