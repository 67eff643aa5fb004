package dev.strata.replica.age;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * ChaCha20-Poly1305 over the chunks of one age payload, with one key: the system's OpenSSL where it can be loaded
 * ({@link OpenSslPayloadCipher}: 4 GB/s on one core of the machines measured, against 2-3 for the JDK's once
 * C2 has compiled it, and at full speed from the first chunk, where the JDK's runs interpreted and then C1-compiled
 * for most of a restore's first GiB), else the JDK's ({@link JdkPayloadCipher}).
 * Both are the same algorithm on the same bytes: a file either writes, either reads. One instance serves one stream
 * on one thread at a time; {@link #close} releases it.
 */
abstract sealed class PayloadCipher implements AutoCloseable permits JdkPayloadCipher, OpenSslPayloadCipher {
  /** A cipher for {@code key} (32 bytes, not kept), encrypting or decrypting. */
  static PayloadCipher of(byte[] key, boolean encrypt) {
    if (LibCrypto.available()) return new OpenSslPayloadCipher(key, encrypt);
    return new JdkPayloadCipher(key, encrypt);
  }

  /**
   * Encrypts or decrypts chunk {@code index} ({@code last}: the payload's final chunk) from {@code in[0, len)} (an
   * array's or memory outside the heap) into {@code out} from {@code at}; returns the bytes written. A decrypted
   * chunk that fails authentication throws {@link AgeFileException} and leaves nothing usable in {@code out}.
   */
  abstract int chunk(long index, boolean last, MemorySegment in, int len, byte[] out, int at) throws IOException;

  /** {@link #chunk(long, boolean, MemorySegment, int, byte[], int)} from an array. */
  final int chunk(long index, boolean last, byte[] in, int len, byte[] out, int at) throws IOException {
    return chunk(index, last, MemorySegment.ofArray(in), len, out, at);
  }

  /** {@link #chunk(long, boolean, byte[], int, byte[], int)} into {@code out} from its start. */
  final int chunk(long index, boolean last, byte[] in, int len, byte[] out) throws IOException {
    return chunk(index, last, in, len, out, 0);
  }

  @Override
  public abstract void close();

  /** age's STREAM nonce: the chunk's index as 11 big-endian bytes, then 1 for the final chunk, else 0. */
  static byte[] nonce(long index, boolean last) {
    byte[] nonce = new byte[12];
    for (int i = 0; i < 8; i++) nonce[10 - i] = (byte) (index >>> (8 * i));
    nonce[11] = (byte) (last ? 1 : 0);
    return nonce;
  }

  static AgeFileException unauthentic(long index) {
    return new AgeFileException("age payload chunk " + index + " fails authentication (truncated or modified)");
  }
}
