package dev.strata.replica.age;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * ChaCha20-Poly1305 over the chunks of one age payload, with one key: the system's OpenSSL where it can be loaded
 * ({@link OpenSslPayloadCipher}: 4 GB/s on one core of the machines measured, against 2-3 for the JDK's once
 * C2 has compiled it, and at full speed from the first chunk, where the JDK's runs interpreted and then C1-compiled
 * for most of a restore's first GiB), else the JDK's ({@link JdkPayloadCipher}).
 * Both are the same algorithm on the same bytes: a file either writes, either reads. One instance serves one stream
 * on one thread at a time; {@link #close} releases it.
 */
abstract sealed class PayloadCipher implements AutoCloseable permits JdkPayloadCipher, OpenSslPayloadCipher {
  private static final AtomicBoolean PRELOADING = new AtomicBoolean();

  /** A cipher for {@code key} (32 bytes, not kept), encrypting or decrypting. */
  static PayloadCipher of(byte[] key, boolean encrypt) {
    if (OpenSslPayloadCipher.available()) return new OpenSslPayloadCipher(key, encrypt);
    return new JdkPayloadCipher(key, encrypt);
  }

  /**
   * Loads OpenSSL's cipher on a thread of its own, once per process: linking the functions (the FFM API spins a stub
   * for each) and the self test take some 0.1-0.15 s of a core, which then pass beside the rest of a command's start
   * (the identities' keys, the listing) instead of before its first file.
   */
  static void preload() {
    if (PRELOADING.compareAndSet(false, true)) {
      Thread.ofPlatform().daemon().name("strata-age-preload").start(() -> {
        OpenSslPayloadCipher.available(); // what the first file would otherwise wait for
      });
    }
  }

  /**
   * Encrypts or decrypts chunk {@code index} ({@code last}: the payload's final chunk) from {@code in[0, len)} into
   * {@code out} from {@code at}; returns the bytes written. A decrypted chunk that fails authentication throws
   * {@link AgeFileException} and leaves nothing usable in {@code out}.
   */
  abstract int chunk(long index, boolean last, byte[] in, int len, byte[] out, int at) throws IOException;

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
