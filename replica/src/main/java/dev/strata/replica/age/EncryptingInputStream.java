package dev.strata.replica.age;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The age file of a plaintext stream of known length, produced as it is read: one 64 KiB chunk in memory at a
 * time. The plaintext must yield exactly the length given, else reading fails and nothing valid is produced.
 */
final class EncryptingInputStream extends InputStream {
  private final InputStream plain;
  private final long plainSize;
  private final long chunks;
  private final PayloadCipher cipher;
  private final byte[] in = new byte[AgeFormat.CHUNK];
  private byte[] buf;
  private int pos, len;
  private long next; // next chunk index
  private final long size;

  EncryptingInputStream(InputStream plain, long plainSize, byte[] header, byte[] fileKey) {
    this.plain = plain;
    this.plainSize = plainSize;
    this.chunks = Math.max(1, (plainSize + AgeFormat.CHUNK - 1) / AgeFormat.CHUNK);
    byte[] nonce = AgeFormat.randomBytes(AgeFormat.NONCE);
    byte[] key = AgeFormat.payloadKey(fileKey, nonce);
    this.cipher = PayloadCipher.of(key, true);
    Arrays.fill(key, (byte) 0);
    this.buf = Arrays.copyOf(header, Math.max(header.length + AgeFormat.NONCE, AgeFormat.CHUNK_CT));
    System.arraycopy(nonce, 0, buf, header.length, AgeFormat.NONCE);
    this.len = header.length + AgeFormat.NONCE;
    this.size = header.length + AgeFormat.payloadSize(plainSize);
  }

  /** The exact number of bytes this stream yields. */
  long size() {
    return size;
  }

  private boolean fill() throws IOException {
    if (pos < len) return true;
    if (next >= chunks) return false;
    long done = next * AgeFormat.CHUNK;
    int want = (int) Math.min(AgeFormat.CHUNK, plainSize - done);
    int n = plain.readNBytes(in, 0, want);
    if (n < want) throw new IOException("data ended after " + (done + n) + " of " + plainSize + " bytes");
    boolean last = next == chunks - 1;
    if (last && plain.read() >= 0) throw new IOException("data longer than " + plainSize + " bytes");
    if (buf.length < AgeFormat.CHUNK_CT) buf = new byte[AgeFormat.CHUNK_CT];
    len = cipher.chunk(next, last, in, n, buf);
    pos = 0;
    next++;
    return true;
  }

  @Override
  public int read() throws IOException {
    if (!fill()) return -1;
    return buf[pos++] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int n) throws IOException {
    if (n == 0) return 0;
    if (!fill()) return -1;
    int k = Math.min(n, len - pos);
    System.arraycopy(buf, pos, b, off, k);
    pos += k;
    return k;
  }

  @Override
  public void close() throws IOException {
    cipher.close();
    plain.close();
  }
}
