package dev.strata.replica.age;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads of every size give the same plaintext: a read of a whole chunk or more is decrypted straight into the
 * reader's array, a smaller one through the stream's own buffer, and both check every chunk before returning it;
 * the same from a stream and from a local file's channel.
 */
class DecryptingInputStreamTest {
  @TempDir Path dir;
  private static final int CHUNK = AgeFormat.CHUNK;
  /** A header of this many bytes (its content does not matter here) before the nonce and the payload. */
  private static final int HEADER = 123;
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

  /** {@code sealed} stored after a header and a nonce, as an age file lies in a file replica; opened for reading. */
  private FileChannel stored(byte[] sealed) throws IOException {
    Path f = Files.createTempFile(dir, "age-", ".ltx");
    byte[] file = new byte[HEADER + 16 + sealed.length];
    random.nextBytes(file);
    System.arraycopy(sealed, 0, file, HEADER + 16, sealed.length);
    Files.write(f, file);
    return FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  private DecryptingInputStream fromChannel(FileChannel ch, long index, int skip, String name) throws IOException {
    return DecryptingInputStream.fromChannel(ch, new AgeFormat.Header(List.of(), new byte[0], new byte[0], HEADER),
        key, index, skip, name);
  }

  @Test
  void everyReadSizeGivesThePlaintextFromAStreamOrAChannel() throws IOException {
    for (int size : new int[] {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 12_345}) {
      byte[] plain = new byte[size];
      random.nextBytes(plain);
      byte[] sealed = seal(plain);
      int chunks = Math.max(1, (size + CHUNK - 1) / CHUNK);
      for (int[] sizes : new int[][] {{1}, {100, CHUNK}, {CHUNK}, {3 * CHUNK}, {CHUNK + 1, 5}, {2 * CHUNK, 1}}) {
        List<InputStream> sources = List.of(
            new DecryptingInputStream(new ByteArrayInputStream(sealed), key, 0, 0, chunks, "f"),
            new DecryptingInputStream(new ByteArrayInputStream(sealed), key, 0, 0, -1, "f"),
            fromChannel(stored(sealed), 0, 0, "f"));
        for (InputStream source : sources) {
          try (InputStream in = source) {
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
  void fromAChannelAStreamStartsAtAnyOffset() throws IOException {
    byte[] plain = new byte[6 * CHUNK + 99];
    random.nextBytes(plain);
    byte[] sealed = seal(plain);
    for (long from : new long[] {CHUNK + 1_000, 5 * CHUNK, 6 * CHUNK + 98, 6 * CHUNK + 99, 7 * CHUNK, 9 * CHUNK}) {
      try (InputStream in = fromChannel(stored(sealed), from / CHUNK, (int) (from % CHUNK), "f")) {
        byte[] want = from >= plain.length ? new byte[0] : Arrays.copyOfRange(plain, (int) from, plain.length);
        assertArrayEquals(want, readAll(in, 3 * CHUNK), "from " + from);
      }
    }
  }

  @Test
  void aModifiedCutExtendedOrShrinkingPayloadFailsWholeChunkReadsWithTheFileNamed() throws IOException {
    String name = "0000-0009.ltx";
    byte[] plain = new byte[5 * CHUNK];
    random.nextBytes(plain);
    byte[] sealed = seal(plain);
    byte[] flipped = sealed.clone();
    flipped[AgeFormat.CHUNK_CT + 500] ^= 4; // in chunk 1
    byte[] cut = Arrays.copyOf(sealed, 2 * AgeFormat.CHUNK_CT); // the chunks after 1 missing
    byte[] extended = Arrays.copyOf(sealed, sealed.length + AgeFormat.CHUNK_CT); // a chunk after the final one
    System.arraycopy(sealed, 0, extended, sealed.length, AgeFormat.CHUNK_CT);
    for (byte[] bad : new byte[][] {flipped, cut, extended, sealed}) {
      String what = bad == sealed ? "shrunk" : bad == cut ? "cut" : bad == extended ? "extended" : "flipped";
      FileChannel ch = stored(bad);
      List<InputStream> sources = bad == sealed ? List.of(fromChannel(ch, 0, 0, name)) // a stream cannot shrink
          : List.of(new DecryptingInputStream(new ByteArrayInputStream(bad), key, 0, 0, -1, name),
              fromChannel(ch, 0, 0, name));
      for (InputStream source : sources) {
        try (InputStream in = source) {
          byte[] buf = new byte[CHUNK];
          in.readNBytes(buf, 0, CHUNK); // chunk 0 is intact
          if (bad == sealed) ch.truncate(HEADER + 16 + 3 * AgeFormat.CHUNK_CT); // after its size was read
          AgeFileException e = assertThrows(AgeFileException.class, () -> {
            while (in.readNBytes(buf, 0, CHUNK) > 0) {
              // whole chunks, to the end
            }
          }, what);
          assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
        }
      }
    }
  }
}
