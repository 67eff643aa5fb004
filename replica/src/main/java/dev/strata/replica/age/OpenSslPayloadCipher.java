package dev.strata.replica.age;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;

/**
 * The payload cipher on the system's OpenSSL ({@code libcrypto}, its EVP ChaCha20-Poly1305), called through the FFM
 * API. The calls are marked critical, so that OpenSSL reads and writes the Java arrays themselves (no copies), which
 * suits calls of tens of microseconds that never block. Where the library is missing, too old, or fails the self
 * test against the JDK's cipher at load, {@link #available} is false and the JDK's cipher is used.
 */
final class OpenSslPayloadCipher extends PayloadCipher {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final int CTRL_AEAD_GET_TAG = 0x10, CTRL_AEAD_SET_TAG = 0x11;
  private static final Cleaner CLEANER = Cleaner.create();

  /** The functions used, bound to one loaded library. */
  private record Functions(MethodHandle newContext, MethodHandle freeContext, MethodHandle init, MethodHandle update,
      MethodHandle finish, MethodHandle control, MemorySegment algorithm) {

    static Functions load() {
      for (String name : new String[] {"libcrypto.so.3", "libcrypto.so.1.1"}) {
        SymbolLookup lib;
        try {
          lib = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
          continue; // not installed here, or native access refused
        }
        try {
          MethodHandle chacha = function(lib, "EVP_chacha20_poly1305", FunctionDescriptor.of(ADDRESS));
          MemorySegment algorithm = (MemorySegment) chacha.invokeExact();
          if (algorithm.equals(MemorySegment.NULL)) return null;
          return new Functions(
              function(lib, "EVP_CIPHER_CTX_new", FunctionDescriptor.of(ADDRESS)),
              function(lib, "EVP_CIPHER_CTX_free", FunctionDescriptor.ofVoid(ADDRESS)),
              function(lib, "EVP_CipherInit_ex",
                  FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT)),
              function(lib, "EVP_CipherUpdate", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                  JAVA_INT)),
              function(lib, "EVP_CipherFinal_ex", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)),
              function(lib, "EVP_CIPHER_CTX_ctrl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                  ADDRESS)),
              algorithm);
        } catch (Throwable t) {
          return null; // a symbol missing (an OpenSSL without ChaCha20-Poly1305)
        }
      }
      return null;
    }

    private static MethodHandle function(SymbolLookup lib, String name, FunctionDescriptor d) {
      MemorySegment f = lib.find(name).orElseThrow(() -> new IllegalStateException("no " + name));
      return LINKER.downcallHandle(f, d, Linker.Option.critical(true));
    }
  }

  /**
   * Loading is guarded by a lock, not done in a static initializer: a virtual thread waiting for another thread's
   * class initialization keeps its carrier, and when the loading thread waited in turn for a lock held by an
   * unmounted virtual thread (the JDK's provider list, during the self test), a restore's parallel reads of file
   * headers stopped for good.
   */
  private static final ReentrantLock LOADING = new ReentrantLock();
  private static volatile boolean loaded;
  private static Functions loadedFunctions; // written under LOADING before loaded is set

  /** Whether OpenSSL's cipher is loaded and agrees with the JDK's; loads it on first call. */
  static boolean available() {
    if (!loaded) {
      LOADING.lock();
      try {
        if (!loaded) {
          Functions f = Functions.load();
          loadedFunctions = f != null && selfTest(f) ? f : null;
          loaded = true;
        }
      } finally {
        LOADING.unlock();
      }
    }
    return loadedFunctions != null;
  }

  private final Functions functions;
  private final MemorySegment context;
  private final Cleaner.Cleanable freed;
  private final int encrypt;
  private final int[] written = new int[1];

  OpenSslPayloadCipher(byte[] key, boolean encrypt) {
    this(available() ? loadedFunctions : null, key, encrypt);
  }

  private OpenSslPayloadCipher(Functions functions, byte[] key, boolean encrypt) {
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
      check(init(functions.algorithm(), MemorySegment.ofArray(copy), MemorySegment.NULL), "EVP_CipherInit_ex");
    } catch (RuntimeException e) {
      close();
      throw e;
    } finally {
      Arrays.fill(copy, (byte) 0);
    }
  }

  private record Free(Functions f, MemorySegment context) implements Runnable {
    @Override
    public void run() {
      try {
        f.freeContext().invokeExact(context);
      } catch (Throwable t) {
        throw new IllegalStateException("OpenSSL: EVP_CIPHER_CTX_free failed", t);
      }
    }
  }

  @Override
  int chunk(long index, boolean last, byte[] in, int len, byte[] out) throws IOException {
    MemorySegment nonce = MemorySegment.ofArray(nonce(index, last));
    check(init(MemorySegment.NULL, MemorySegment.NULL, nonce), "EVP_CipherInit_ex");
    MemorySegment src = MemorySegment.ofArray(in), dst = MemorySegment.ofArray(out);
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
        Arrays.fill(out, 0, body, (byte) 0); // nothing unauthenticated is left to read
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
  public void close() {
    freed.clean();
  }

  /**
   * Whether OpenSSL and the JDK agree: a payload of three chunks (the last one empty) encrypts to the same bytes
   * with each, OpenSSL decrypts it back, and a flipped bit fails OpenSSL's authentication.
   */
  private static boolean selfTest(Functions f) {
    RandomGenerator random = RandomGenerator.of("L64X128MixRandom");
    byte[] key = new byte[32];
    random.nextBytes(key);
    // Small chunks: the JDK's cipher runs interpreted here, and a full chunk would cost a start-up some 0.3 s.
    int[] sizes = {1000, 100, 0};
    try (PayloadCipher sslOut = new OpenSslPayloadCipher(f, key, true);
        PayloadCipher sslIn = new OpenSslPayloadCipher(f, key, false);
        PayloadCipher jdkOut = new JdkPayloadCipher(key, true)) {
      for (int i = 0; i < sizes.length; i++) {
        boolean last = i == sizes.length - 1;
        byte[] plain = new byte[sizes[i]];
        random.nextBytes(plain);
        byte[] a = new byte[AgeFormat.CHUNK_CT], b = new byte[AgeFormat.CHUNK_CT];
        byte[] back = new byte[AgeFormat.CHUNK_CT];
        int na = sslOut.chunk(i, last, plain, plain.length, a);
        int nb = jdkOut.chunk(i, last, plain, plain.length, b);
        if (na != nb || !Arrays.equals(a, 0, na, b, 0, nb)) return false;
        if (sslIn.chunk(i, last, b, nb, back) != plain.length || !Arrays.equals(back, 0, plain.length, plain, 0,
            plain.length)) {
          return false;
        }
        a[plain.length / 2] ^= 1; // in the body, or in the tag of the empty chunk
        try {
          sslIn.chunk(i, last, a, na, back);
          return false;
        } catch (AgeFileException expected) {
          // refused, as it must be
        }
      }
      return true;
    } catch (IOException | RuntimeException | LinkageError e) {
      return false;
    }
  }
}
