package dev.strata.replica.age;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Reads of every size give the same plaintext: a read of a whole chunk or more is decrypted straight into the
 * reader's array, a smaller one through the stream's own buffer, and both check every chunk before returning it.
 */
class DecryptingInputStreamTest {
  private static final int CHUNK = AgeFormat.CHUNK;
  private final Random random = new Random(20261206);
  private final byte[] key = new byte[32];

  DecryptingInputStreamTest() {
    random.nextBytes(key);
  }

  /** The age STREAM payload of {@code plain}: 64 KiB chunks, the last one flagged (empty only for no plaintext). */
  private byte[] seal(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PayloadCipher c = PayloadCipher.of(key, true)) {
      int chunks = Math.max(1, (plain.length + CHUNK - 1) / CHUNK);
      byte[] sealed = new byte[AgeFormat.CHUNK_CT];
      for (int i = 0; i < chunks; i++) {
        byte[] part = Arrays.copyOfRange(plain, i * CHUNK, Math.min(plain.length, (i + 1) * CHUNK));
        out.write(sealed, 0, c.chunk(i, i == chunks - 1, part, part.length, sealed));
      }
    }
    return out.toByteArray();
  }

  /** Reads {@code in} to its end in reads of the sizes given, in turn. */
  private static byte[] readAll(InputStream in, int... sizes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[3 * CHUNK + 7];
    for (int k = 0; ; k++) {
      int want = sizes[k % sizes.length], at = k % 5; // an offset in the array too
      int n = in.read(buf, at, Math.min(want, buf.length - at));
      if (n < 0) return out.toByteArray();
      assertTrue(n > 0, "a read returns at least one byte");
      out.write(buf, at, n);
    }
  }

  @Test
  void everyReadSizeGivesThePlaintext() throws IOException {
    for (int size : new int[] {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 12_345}) {
      byte[] plain = new byte[size];
      random.nextBytes(plain);
      byte[] sealed = seal(plain);
      int chunks = Math.max(1, (size + CHUNK - 1) / CHUNK);
      for (int[] sizes : new int[][] {{1}, {100, CHUNK}, {CHUNK}, {3 * CHUNK}, {CHUNK + 1, 5}, {2 * CHUNK, 1}}) {
        for (long known : new long[] {chunks, -1}) {
          try (InputStream in = new DecryptingInputStream(new ByteArrayInputStream(sealed), key, 0, 0, known, "f")) {
            assertArrayEquals(plain, readAll(in, sizes), size + " bytes read by " + Arrays.toString(sizes));
          }
        }
      }
    }
  }

  @Test
  void aStreamStartingInsideAChunkSkipsToItsOffset() throws IOException {
    byte[] plain = new byte[3 * CHUNK + 99];
    random.nextBytes(plain);
    byte[] sealed = seal(plain);
    int from = CHUNK + 1_000; // chunk 1, 1,000 bytes in
    byte[] tail = Arrays.copyOfRange(sealed, AgeFormat.CHUNK_CT, sealed.length);
    try (InputStream in = new DecryptingInputStream(new ByteArrayInputStream(tail), key, 1, 1_000, 4, "f")) {
      assertArrayEquals(Arrays.copyOfRange(plain, from, plain.length), readAll(in, 3 * CHUNK));
    }
  }

  @Test
  void aModifiedOrMissingChunkFailsWholeChunkReadsWithTheFileNamed() throws IOException {
    byte[] plain = new byte[3 * CHUNK];
    random.nextBytes(plain);
    byte[] sealed = seal(plain);
    byte[] flipped = sealed.clone();
    flipped[AgeFormat.CHUNK_CT + 500] ^= 4; // in chunk 1
    byte[] cut = Arrays.copyOf(sealed, 2 * AgeFormat.CHUNK_CT); // the final chunk missing
    for (byte[] bad : new byte[][] {flipped, cut}) {
      try (InputStream in = new DecryptingInputStream(new ByteArrayInputStream(bad), key, 0, 0, -1, "0000-0009.ltx")) {
        byte[] buf = new byte[CHUNK];
        in.readNBytes(buf, 0, CHUNK); // chunk 0 is intact
        AgeFileException e = assertThrows(AgeFileException.class, () -> in.readNBytes(buf, 0, CHUNK));
        assertTrue(e.getMessage().startsWith("0000-0009.ltx: "), e.getMessage());
      }
    }
  }
}
