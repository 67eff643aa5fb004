package dev.strata.replica.age;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The payload cipher on the system's OpenSSL ({@link LibCrypto}, its EVP ChaCha20-Poly1305): one context per stream,
 * its key set once, the nonce of each chunk set before it.
 */
final class OpenSslPayloadCipher extends PayloadCipher {
  private static final int CTRL_AEAD_GET_TAG = 0x10, CTRL_AEAD_SET_TAG = 0x11;
  private static final Cleaner CLEANER = Cleaner.create();

  private final LibCrypto.Functions functions;
  private final MemorySegment context;
  private final Cleaner.Cleanable freed;
  private final int encrypt;
  private final int[] written = new int[1];
  private boolean closed;

  OpenSslPayloadCipher(byte[] key, boolean encrypt) {
    this(LibCrypto.functions(), key, encrypt);
  }

  private OpenSslPayloadCipher(LibCrypto.Functions functions, byte[] key, boolean encrypt) {
    if (functions == null) throw new IllegalStateException("OpenSSL's ChaCha20-Poly1305 is not available");
    this.functions = functions;
    if (key.length != 32) throw new IllegalArgumentException("a ChaCha20 key has 32 bytes");
    this.encrypt = encrypt ? 1 : 0;
    try {
      context = (MemorySegment) functions.newContext().invokeExact();
    } catch (Throwable t) {
      throw new IllegalStateException("OpenSSL: EVP_CIPHER_CTX_new failed", t);
    }
    if (context.equals(MemorySegment.NULL)) throw new OutOfMemoryError("OpenSSL: EVP_CIPHER_CTX_new failed");
    // A stream never closed still frees its context (which cleanses the key) once unreachable.
    freed = CLEANER.register(this, new Free(functions, context));
    byte[] copy = key.clone();
    try {
      check(init(functions.chacha20Poly1305(), MemorySegment.ofArray(copy), MemorySegment.NULL), "EVP_CipherInit_ex");
    } catch (RuntimeException e) {
      close();
      throw e;
    } finally {
      Arrays.fill(copy, (byte) 0);
    }
  }

  private record Free(LibCrypto.Functions f, MemorySegment context) implements Runnable {
    @Override
    public void run() {
      try {
        f.freeContext().invokeExact(context);
      } catch (Throwable t) {
        throw new IllegalStateException("OpenSSL: EVP_CIPHER_CTX_free failed", t);
      }
    }
  }

  /**
   * Synchronized with {@link #close}, which a read-ahead thread's owner may call while that thread still decrypts: the
   * context is never freed under OpenSSL's feet, and a chunk after close is an error, not a use of freed memory.
   */
  @Override
  synchronized int chunk(long index, boolean last, MemorySegment src, int len, byte[] out, int at)
      throws IOException {
    if (closed) throw new IOException("age: the stream was closed");
    MemorySegment nonce = MemorySegment.ofArray(nonce(index, last));
    check(init(MemorySegment.NULL, MemorySegment.NULL, nonce), "EVP_CipherInit_ex");
    MemorySegment dst = MemorySegment.ofArray(out).asSlice(at);
    MemorySegment n = MemorySegment.ofArray(written);
    try {
      if (encrypt == 1) {
        check((int) functions.update().invokeExact(context, dst, n, src, len), "EVP_CipherUpdate");
        int body = written[0];
        check((int) functions.finish().invokeExact(context, dst.asSlice(body), n), "EVP_CipherFinal_ex");
        body += written[0];
        check((int) functions.control().invokeExact(context, CTRL_AEAD_GET_TAG, AgeFormat.TAG, dst.asSlice(body)),
            "EVP_CIPHER_CTX_ctrl");
        return body + AgeFormat.TAG;
      }
      if (len < AgeFormat.TAG) throw unauthentic(index);
      int body = len - AgeFormat.TAG;
      check((int) functions.update().invokeExact(context, dst, n, src, body), "EVP_CipherUpdate");
      int plain = written[0];
      check((int) functions.control().invokeExact(context, CTRL_AEAD_SET_TAG, AgeFormat.TAG, src.asSlice(body)),
          "EVP_CIPHER_CTX_ctrl");
      if ((int) functions.finish().invokeExact(context, dst.asSlice(plain), n) != 1) {
        Arrays.fill(out, at, at + body, (byte) 0); // nothing unauthenticated is left to read
        throw unauthentic(index);
      }
      return plain + written[0];
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("age: OpenSSL's ChaCha20-Poly1305 failed", t);
    }
  }

  private int init(MemorySegment algorithm, MemorySegment key, MemorySegment nonce) {
    try {
      return (int) functions.init().invokeExact(context, algorithm, MemorySegment.NULL, key, nonce, encrypt);
    } catch (Throwable t) {
      throw new IllegalStateException("OpenSSL: EVP_CipherInit_ex failed", t);
    }
  }

  private static void check(int result, String function) {
    if (result != 1) throw new IllegalStateException("OpenSSL: " + function + " failed");
  }

  @Override
  public synchronized void close() {
    closed = true;
    freed.clean();
  }

  /**
   * A known answer: key 00 01 … 1f, chunk 0 (not the last) of the 100 bytes {@code i * 7}, then chunk 1 (the last),
   * empty: their ciphertexts and tags, as the JDK's cipher and Python's {@code cryptography} (OpenSSL) both give them,
   * which {@code PayloadCipherTest} checks against the JDK's.
   */
  static final String[] KNOWN_ANSWER = {
      "18bf4c24b1c58ce02b5e1a2cfb182c4e88c68d706d3ec1fd44574aafeefea78592efe6982ded364c859e7e0950354275cbf7a83bb22e"
          + "234f85a5dce2953ee8748235e3097ba9782494588ce23d955012501441730bb9e4d69b8fea4d4a0b717b240facaea3d784e7a1"
          + "01fb5d9cc3d3a6193856d9",
      "e34c1daa2c0f35fcd2d36c10761fe796"};

  /** The plaintexts of {@link #KNOWN_ANSWER}'s chunks. */
  static byte[][] knownPlaintexts() {
    byte[] first = new byte[100];
    for (int i = 0; i < first.length; i++) first[i] = (byte) (i * 7);
    return new byte[][] {first, new byte[0]};
  }

  /** The key of {@link #KNOWN_ANSWER}. */
  static byte[] knownKey() {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) key[i] = (byte) i;
    return key;
  }

  /**
   * Whether OpenSSL's cipher gives the {@link #KNOWN_ANSWER}, decrypts it back, and refuses it with a bit flipped. A
   * known answer rather than a comparison with the JDK's cipher at every start: that one ran interpreted there, 50-65
   * ms of a core while a restore starts on two.
   */
  static boolean selfTest(LibCrypto.Functions f) {
    byte[] key = knownKey();
    byte[][] plain = knownPlaintexts();
    try (PayloadCipher out = new OpenSslPayloadCipher(f, key, true);
        PayloadCipher in = new OpenSslPayloadCipher(f, key, false)) {
      for (int i = 0; i < plain.length; i++) {
        boolean last = i == plain.length - 1;
        byte[] expected = HexFormat.of().parseHex(KNOWN_ANSWER[i]);
        byte[] sealed = new byte[AgeFormat.CHUNK_CT], back = new byte[AgeFormat.CHUNK_CT];
        int n = out.chunk(i, last, plain[i], plain[i].length, sealed);
        if (!Arrays.equals(sealed, 0, n, expected, 0, expected.length)) return false;
        if (in.chunk(i, last, sealed, n, back) != plain[i].length
            || !Arrays.equals(back, 0, plain[i].length, plain[i], 0, plain[i].length)) {
          return false;
        }
        sealed[n / 2] ^= 1; // in the body, or in the tag of the empty chunk
        try {
          in.chunk(i, last, sealed, n, back);
          return false;
        } catch (AgeFileException expectedRefusal) {
          // refused, as it must be
        }
      }
      return true;
    } catch (IOException | RuntimeException | LinkageError e) {
      return false;
    }
  }
}
