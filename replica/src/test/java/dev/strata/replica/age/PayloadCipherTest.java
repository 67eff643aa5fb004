package dev.strata.replica.age;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** OpenSSL's and the JDK's payload ciphers: the same bytes both ways, and the same refusals. */
class PayloadCipherTest {
  private static final Random RANDOM = new Random(20261205);

  private static byte[] key() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return k;
  }

  @Test
  void openSslLoadsWhereTheSystemHasIt() {
    // Debian's libssl3 (a dependency of curl, git, python3…) is on every machine the tests run on: there the fast
    // path must load, not silently fall back to the JDK's cipher.
    assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcrypto.so.3")));
    assertTrue(LibCrypto.available());
    try (PayloadCipher c = PayloadCipher.of(key(), false)) {
      assertTrue(c instanceof OpenSslPayloadCipher);
    }
  }

  @Test
  void theSelfTestsKnownAnswerIsTheJdksCiphertext() throws Exception {
    byte[][] plain = OpenSslPayloadCipher.knownPlaintexts();
    try (PayloadCipher jdk = new JdkPayloadCipher(OpenSslPayloadCipher.knownKey(), true)) {
      for (int i = 0; i < plain.length; i++) {
        byte[] sealed = new byte[AgeFormat.CHUNK_CT];
        int n = jdk.chunk(i, i == plain.length - 1, plain[i], plain[i].length, sealed);
        assertEquals(OpenSslPayloadCipher.KNOWN_ANSWER[i], HexFormat.of().formatHex(sealed, 0, n));
      }
    }
  }

  @Test
  void eachDecryptsWhatTheOtherEncrypts() throws Exception {
    assumeTrue(LibCrypto.available());
    byte[] key = key();
    try (PayloadCipher sslOut = new OpenSslPayloadCipher(key, true);
        PayloadCipher sslIn = new OpenSslPayloadCipher(key, false);
        PayloadCipher jdkOut = new JdkPayloadCipher(key, true);
        PayloadCipher jdkIn = new JdkPayloadCipher(key, false)) {
      long[] indexes = {0, 1, 2, 255, 256, 1L << 40};
      int[] sizes = {0, 1, 15, 16, 17, 4096, AgeFormat.CHUNK - 1, AgeFormat.CHUNK};
      for (long index : indexes) {
        for (int size : sizes) {
          for (boolean last : new boolean[] {false, true}) {
            byte[] plain = new byte[size];
            RANDOM.nextBytes(plain);
            byte[] a = new byte[AgeFormat.CHUNK_CT], b = new byte[AgeFormat.CHUNK_CT];
            int na = sslOut.chunk(index, last, plain, size, a);
            int nb = jdkOut.chunk(index, last, plain, size, b);
            assertEquals(size + AgeFormat.TAG, na);
            assertArrayEquals(Arrays.copyOf(b, nb), Arrays.copyOf(a, na), "chunk " + index + " of " + size);
            byte[] back = new byte[AgeFormat.CHUNK_CT];
            assertEquals(size, sslIn.chunk(index, last, b, nb, back));
            assertArrayEquals(plain, Arrays.copyOf(back, size));
            assertEquals(size, jdkIn.chunk(index, last, a, na, back));
            assertArrayEquals(plain, Arrays.copyOf(back, size));
          }
        }
      }
    }
  }

  @Test
  void bothDecryptFromMemoryOutsideTheHeap() throws Exception {
    // A local replica's chunks are read into native memory and decrypted from there, at any offset in it.
    byte[] key = key();
    byte[] plain = new byte[AgeFormat.CHUNK];
    RANDOM.nextBytes(plain);
    byte[] sealed = new byte[AgeFormat.CHUNK_CT];
    int n;
    try (PayloadCipher out = PayloadCipher.of(key, true)) {
      n = out.chunk(3, true, plain, plain.length, sealed);
    }
    List<PayloadCipher> ciphers = LibCrypto.available()
        ? List.of(new OpenSslPayloadCipher(key, false), new JdkPayloadCipher(key, false))
        : List.of(new JdkPayloadCipher(key, false));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment memory = arena.allocate(n + 100);
      MemorySegment.copy(MemorySegment.ofArray(sealed), 0, memory, 100, n);
      for (PayloadCipher in : ciphers) {
        try (in) {
          byte[] back = new byte[AgeFormat.CHUNK_CT + 10];
          assertEquals(plain.length, in.chunk(3, true, memory.asSlice(100, n), n, back, 10), in.toString());
          assertArrayEquals(plain, Arrays.copyOfRange(back, 10, 10 + plain.length));
          memory.set(ValueLayout.JAVA_BYTE, 100 + n / 2, (byte) (sealed[n / 2] ^ 1));
          assertThrows(AgeFileException.class, () -> in.chunk(3, true, memory.asSlice(100, n), n, back, 10));
          memory.set(ValueLayout.JAVA_BYTE, 100 + n / 2, sealed[n / 2]);
        }
      }
    }
  }

  @Test
  void closedWhileAnotherThreadDecryptsTheCipherRefusesInsteadOfUsingFreedMemory() throws Exception {
    // A restore that fails closes its inputs while their read-ahead threads may be decrypting a chunk.
    assumeTrue(LibCrypto.available());
    byte[] key = key();
    byte[] plain = new byte[AgeFormat.CHUNK];
    byte[] sealed = new byte[AgeFormat.CHUNK_CT];
    int n;
    try (PayloadCipher out = new OpenSslPayloadCipher(key, true)) {
      n = out.chunk(0, false, plain, plain.length, sealed);
    }
    for (int round = 0; round < 200; round++) {
      PayloadCipher in = new OpenSslPayloadCipher(key, false);
      CountDownLatch started = new CountDownLatch(1);
      Thread reader = Thread.ofPlatform().start(() -> {
        byte[] back = new byte[AgeFormat.CHUNK_CT];
        started.countDown();
        try {
          while (true) in.chunk(0, false, sealed, n, back);
        } catch (IOException expected) {
          // closed under it
        }
      });
      started.await();
      if (round % 2 == 1) Thread.sleep(0, 20_000);
      in.close();
      reader.join(10_000);
      assertTrue(!reader.isAlive(), "the reader stops once the cipher is closed");
    }
  }

  @Test
  void bothRefuseWhatWasChangedMovedOrCut() throws Exception {
    assumeTrue(LibCrypto.available());
    byte[] key = key();
    byte[] plain = new byte[5000];
    RANDOM.nextBytes(plain);
    byte[] sealed = new byte[AgeFormat.CHUNK_CT];
    int n;
    try (PayloadCipher out = PayloadCipher.of(key, true)) {
      n = out.chunk(7, false, plain, plain.length, sealed);
    }
    for (PayloadCipher in : List.of(new OpenSslPayloadCipher(key, false), new JdkPayloadCipher(key, false))) {
      try (in) {
        byte[] back = new byte[AgeFormat.CHUNK_CT];
        for (int at : new int[] {0, 2500, n - AgeFormat.TAG - 1, n - AgeFormat.TAG, n - 1}) {
          byte[] bad = sealed.clone();
          bad[at] ^= 0x20;
          assertThrows(AgeFileException.class, () -> in.chunk(7, false, bad, n, back), "flip at " + at);
        }
        assertThrows(AgeFileException.class, () -> in.chunk(8, false, sealed, n, back), "another chunk's index");
        assertThrows(AgeFileException.class, () -> in.chunk(7, true, sealed, n, back), "called the last");
        assertThrows(AgeFileException.class, () -> in.chunk(7, false, sealed, n - 1, back), "cut by a byte");
        assertThrows(AgeFileException.class, () -> in.chunk(7, false, sealed, AgeFormat.TAG - 1, back),
            "shorter than a tag");
        byte[] otherKey = key();
        try (PayloadCipher wrong = PayloadCipher.of(otherKey, false)) {
          assertThrows(AgeFileException.class, () -> wrong.chunk(7, false, sealed, n, back), "another key");
        }
        // After refusals the cipher still opens a good chunk: no state is left from a failure.
        assertEquals(plain.length, in.chunk(7, false, sealed, n, back));
        assertArrayEquals(plain, Arrays.copyOf(back, plain.length));
      }
    }
  }

  @Test
  void streamsOnManyThreadsKeepTheirKeysApart() throws Exception {
    assumeTrue(LibCrypto.available());
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> done = new java.util.ArrayList<>();
      for (int t = 0; t < 24; t++) {
        done.add(pool.submit(() -> {
          byte[] key = key();
          byte[] plain = new byte[AgeFormat.CHUNK];
          new Random(Arrays.hashCode(key)).nextBytes(plain);
          byte[] sealed = new byte[AgeFormat.CHUNK_CT], back = new byte[AgeFormat.CHUNK_CT];
          try (PayloadCipher out = new OpenSslPayloadCipher(key, true);
              PayloadCipher in = new JdkPayloadCipher(key, false)) {
            for (long i = 0; i < 20; i++) {
              int n = out.chunk(i, false, plain, plain.length, sealed);
              assertEquals(plain.length, in.chunk(i, false, sealed, n, back));
              assertArrayEquals(plain, Arrays.copyOf(back, plain.length));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) f.get();
    } finally {
      pool.shutdownNow();
    }
  }
}
