package dev.strata.replica.age;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The system's OpenSSL ({@code libcrypto}), called through the FFM API: ChaCha20-Poly1305 for age payloads
 * ({@link OpenSslPayloadCipher}), X25519 and HMAC-SHA-256 for file keys ({@link X25519Identity}, {@link AgeFormat}).
 * Bound once per process and checked against known answers; where the library is missing, too old, or fails a check,
 * {@link #available} is false and the JDK's algorithms are used instead.
 *
 * <p>Why the keys too, and not only the payload: the first use of the JDK's providers in a process (their list, then
 * its X25519 service) and its X25519 in Java, still interpreted, took 0.15-0.2 s of the main thread of every encrypted
 * restore, before its first byte could be decrypted; OpenSSL's take microseconds once bound.
 *
 * <p>The calls are marked critical, so that OpenSSL reads and writes the Java arrays themselves (no copies), which
 * suits calls of microseconds that never block.
 */
final class LibCrypto {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final int NID_X25519 = 1034;

  private LibCrypto() {}

  /** The functions used, bound to one loaded library. */
  record Functions(MethodHandle newContext, MethodHandle freeContext, MethodHandle init, MethodHandle update,
      MethodHandle finish, MethodHandle control, MemorySegment chacha20Poly1305,
      MethodHandle newPrivateKey, MethodHandle newPublicKey, MethodHandle freeKey,
      MethodHandle newKeyContext, MethodHandle freeKeyContext, MethodHandle deriveInit, MethodHandle derivePeer,
      MethodHandle derive, MethodHandle hmac, MemorySegment sha256) {

    static Functions load() {
      for (String name : new String[] {"libcrypto.so.3", "libcrypto.so.1.1"}) {
        SymbolLookup lib;
        try {
          lib = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
          continue; // not installed here, or native access refused
        }
        try {
          MemorySegment chacha = (MemorySegment) function(lib, "EVP_chacha20_poly1305", FunctionDescriptor.of(ADDRESS))
              .invokeExact();
          MemorySegment sha256 = (MemorySegment) function(lib, "EVP_sha256", FunctionDescriptor.of(ADDRESS))
              .invokeExact();
          if (chacha.equals(MemorySegment.NULL) || sha256.equals(MemorySegment.NULL)) return null;
          FunctionDescriptor free = FunctionDescriptor.ofVoid(ADDRESS);
          FunctionDescriptor newKey = FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
          FunctionDescriptor threeAddresses = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
          return new Functions(
              function(lib, "EVP_CIPHER_CTX_new", FunctionDescriptor.of(ADDRESS)),
              function(lib, "EVP_CIPHER_CTX_free", free),
              function(lib, "EVP_CipherInit_ex",
                  FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT)),
              function(lib, "EVP_CipherUpdate", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                  JAVA_INT)),
              function(lib, "EVP_CipherFinal_ex", threeAddresses),
              function(lib, "EVP_CIPHER_CTX_ctrl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                  ADDRESS)),
              chacha,
              function(lib, "EVP_PKEY_new_raw_private_key", newKey),
              function(lib, "EVP_PKEY_new_raw_public_key", newKey),
              function(lib, "EVP_PKEY_free", free),
              function(lib, "EVP_PKEY_CTX_new", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS)),
              function(lib, "EVP_PKEY_CTX_free", free),
              function(lib, "EVP_PKEY_derive_init", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
              function(lib, "EVP_PKEY_derive_set_peer", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
              function(lib, "EVP_PKEY_derive", threeAddresses),
              function(lib, "HMAC", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG,
                  ADDRESS, ADDRESS)),
              sha256);
        } catch (Throwable t) {
          return null; // a symbol missing (an OpenSSL without ChaCha20-Poly1305 or raw X25519 keys)
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
   * unmounted virtual thread (the JDK's provider list, during a self test), a restore's parallel reads of file
   * headers stopped for good.
   */
  private static final ReentrantLock LOADING = new ReentrantLock();
  private static volatile boolean loaded;
  private static Functions loadedFunctions; // written under LOADING before loaded is set

  private static final AtomicBoolean PRELOADING = new AtomicBoolean();

  /**
   * Loads OpenSSL on a thread of its own, once per process: linking the functions (the FFM API spins a stub for
   * each) and the self tests take some 0.05-0.1 s of a core, which then pass beside the rest of a command's start (the
   * identities' files, the listing) instead of before its first file.
   */
  static void preload() {
    if (PRELOADING.compareAndSet(false, true)) {
      Thread.ofPlatform().daemon().name("strata-age-preload").start(LibCrypto::available);
    }
  }

  /** Whether OpenSSL is loaded and passed its self tests; loads it on first call. */
  static boolean available() {
    return functions() != null;
  }

  /** The bound functions, or null where OpenSSL is not {@link #available}; loads them on first call. */
  static Functions functions() {
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
    return loadedFunctions;
  }

  /** X25519 of {@code scalar} and the point {@code u} (32 bytes each); null when OpenSSL refuses (a zero result). */
  static byte[] x25519(byte[] scalar, byte[] u) {
    return x25519(functions(), scalar, u);
  }

  /** The public key (X25519 of the base point) of {@code scalar}. */
  static byte[] x25519PublicKey(byte[] scalar) {
    return x25519PublicKey(functions(), scalar);
  }

  /** HMAC-SHA-256 of {@code data} with {@code key}. */
  static byte[] hmacSha256(byte[] key, byte[] data) {
    return hmacSha256(functions(), key, data);
  }

  private static byte[] x25519(Functions f, byte[] scalar, byte[] u) {
    MemorySegment mine = newKey(f.newPrivateKey(), scalar), theirs = MemorySegment.NULL, context = MemorySegment.NULL;
    try {
      theirs = newKey(f.newPublicKey(), u);
      context = (MemorySegment) f.newKeyContext().invokeExact(mine, MemorySegment.NULL);
      if (context.equals(MemorySegment.NULL)) throw new OutOfMemoryError("OpenSSL: EVP_PKEY_CTX_new failed");
      byte[] shared = new byte[32];
      long[] length = {shared.length};
      if ((int) f.deriveInit().invokeExact(context) != 1
          || (int) f.derivePeer().invokeExact(context, theirs) != 1
          || (int) f.derive().invokeExact(context, MemorySegment.ofArray(shared), MemorySegment.ofArray(length)) != 1
          || length[0] != shared.length) {
        return null;
      }
      // A low-order point gives zero, whatever the scalar: age refuses it (OpenSSL's derive fails on it already).
      return Arrays.equals(shared, new byte[32]) ? null : shared;
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("OpenSSL: X25519 failed", t);
    } finally {
      free(f.freeKeyContext(), context);
      free(f.freeKey(), theirs);
      free(f.freeKey(), mine);
    }
  }

  /** X25519 of the base point (u = 9): a scalar's public key, as age's recipients are made. */
  private static byte[] x25519PublicKey(Functions f, byte[] scalar) {
    byte[] base = new byte[32];
    base[0] = 9;
    byte[] key = x25519(f, scalar, base);
    if (key == null) throw new IllegalStateException("OpenSSL: no X25519 public key");
    return key;
  }

  private static MemorySegment newKey(MethodHandle constructor, byte[] raw) {
    if (raw.length != 32) throw new IllegalArgumentException("an X25519 key has 32 bytes");
    MemorySegment key;
    try {
      key = (MemorySegment) constructor.invokeExact(NID_X25519, MemorySegment.NULL, MemorySegment.ofArray(raw),
          (long) raw.length);
    } catch (Throwable t) {
      throw new IllegalStateException("OpenSSL: an X25519 key failed", t);
    }
    if (key.equals(MemorySegment.NULL)) throw new IllegalStateException("OpenSSL refused an X25519 key");
    return key;
  }

  private static void free(MethodHandle free, MemorySegment p) {
    if (p.equals(MemorySegment.NULL)) return;
    try {
      free.invokeExact(p);
    } catch (Throwable t) {
      throw new IllegalStateException("OpenSSL: free failed", t);
    }
  }

  private static byte[] hmacSha256(Functions f, byte[] key, byte[] data) {
    byte[] mac = new byte[32];
    int[] length = {0};
    try {
      MemorySegment done = (MemorySegment) f.hmac().invokeExact(f.sha256(), MemorySegment.ofArray(key), key.length,
          MemorySegment.ofArray(data), (long) data.length, MemorySegment.ofArray(mac), MemorySegment.ofArray(length));
      if (done.equals(MemorySegment.NULL) || length[0] != mac.length) {
        throw new IllegalStateException("OpenSSL: HMAC failed");
      }
      return mac;
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("OpenSSL: HMAC failed", t);
    }
  }

  /** RFC 7748, section 5.2, the first X25519 test vector: scalar, u-coordinate, result. */
  static final String[] X25519_KNOWN_ANSWER = {
      "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
      "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"};

  /** The public key of {@link #X25519_KNOWN_ANSWER}'s scalar, as Python's {@code cryptography} gives it. */
  static final String X25519_KNOWN_PUBLIC_KEY = "1c9fd88f45606d932a80c71824ae151d15d73e77de38e8e000852e614fae7019";

  /** RFC 4231, test case 2: HMAC-SHA-256 with the key "Jefe" of "what do ya want for nothing?". */
  static final String HMAC_KNOWN_ANSWER = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

  /** Whether every function gives its known answer (the payload cipher: {@link OpenSslPayloadCipher#selfTest}). */
  private static boolean selfTest(Functions f) {
    try {
      HexFormat hex = HexFormat.of();
      byte[] scalar = hex.parseHex(X25519_KNOWN_ANSWER[0]);
      return Arrays.equals(x25519(f, scalar, hex.parseHex(X25519_KNOWN_ANSWER[1])),
              hex.parseHex(X25519_KNOWN_ANSWER[2]))
          && Arrays.equals(x25519PublicKey(f, scalar), hex.parseHex(X25519_KNOWN_PUBLIC_KEY))
          && x25519(f, scalar, new byte[32]) == null // the zero point: a zero result, refused
          && Arrays.equals(hmacSha256(f, "Jefe".getBytes(StandardCharsets.US_ASCII),
              "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)),
              hex.parseHex(HMAC_KNOWN_ANSWER))
          && OpenSslPayloadCipher.selfTest(f);
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
