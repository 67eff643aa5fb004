package dev.strata.replica.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseFileWritesTest {
  @TempDir Path dir;

  @Test
  void writesEveryByteAtItsOffsetInPieces() throws Exception {
    byte[] data = new byte[3 * DatabaseFileWrites.MAX_WRITE + 4096 + 17];
    new Random(7).nextBytes(data);
    Path file = dir.resolve("db");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocateDirect(data.length + 100);
      b.position(50);
      b.put(data);
      b.flip().position(50);
      long end = DatabaseFileWrites.write(ch, b, 8192);
      assertEquals(8192 + data.length, end);
      assertEquals(b.limit(), b.position(), "the whole buffer is consumed");
      assertEquals(50 + data.length, b.limit(), "the limit is left as it was");
    }
    byte[] written = Files.readAllBytes(file);
    assertEquals(8192 + data.length, written.length);
    assertArrayEquals(new byte[8192], Arrays.copyOf(written, 8192), "nothing before the offset");
    assertArrayEquals(data, Arrays.copyOfRange(written, 8192, written.length));
  }

  @Test
  void anEmptyBufferWritesNothing() throws Exception {
    try (FileChannel ch = FileChannel.open(dir.resolve("db"), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      assertEquals(4096, DatabaseFileWrites.write(ch, ByteBuffer.allocate(0), 4096));
      assertEquals(0, ch.size());
    }
  }
}
