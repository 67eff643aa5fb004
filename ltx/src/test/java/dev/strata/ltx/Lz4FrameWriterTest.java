package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import net.jpountz.lz4.LZ4FrameInputStream;
import org.junit.jupiter.api.Test;

/** The LZ4 frame writer uses superfly/ltx v0.3's parameters (spec §1.5) and writes frames others can read. */
class Lz4FrameWriterTest {
  private static byte[] write(byte[] content) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Lz4FrameWriter w = new Lz4FrameWriter(out);
    w.write(content, 0, content.length);
    w.finish();
    w.finish(); // a second finish writes nothing
    return out.toByteArray();
  }

  @Test
  void writesTheDocumentedFrameHeader() throws IOException {
    assertThat(Arrays.copyOf(write(new byte[10]), 7)).containsExactly(0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7);
  }

  @Test
  void anEmptyFrameIsHeaderEndMarkAndChecksum() throws IOException {
    assertThat(write(new byte[0])).hasSize(7 + 4 + 4);
  }

  @Test
  void vecCsTerminatorIsOneStoredBlock() throws IOException {
    // spec §1.12: 04224d18 6440a7 04000080 00000000 00000000 69d9d608
    assertThat(java.util.HexFormat.of().formatHex(write(new byte[4])))
        .isEqualTo("04224d186440a7" + "04000080" + "00000000" + "00000000" + "69d9d608");
  }

  @Test
  void lz4JavasOwnReaderAgrees() throws IOException {
    byte[] content = new byte[300_000];
    Random r = new Random(11);
    for (int i = 0; i < content.length; i++) content[i] = (byte) (i % 1000 < 500 ? 'x' : r.nextInt(256));
    byte[] frame = write(content);
    assertThat(frame.length).isLessThan(content.length);
    try (LZ4FrameInputStream in = new LZ4FrameInputStream(new ByteArrayInputStream(frame))) {
      assertThat(in.readAllBytes()).isEqualTo(content);
    }
  }

  /**
   * Sizes around the block size, and content that compresses far more than eightfold: the buffers grow as data
   * comes and the content checksum is taken in one call for a frame of one block, streamed for more.
   */
  @Test
  void framesOfAnySizeReadBackWithTheirContentChecksum() throws IOException {
    Random r = new Random(5);
    for (int size : new int[] {0, 1, 4100, 65_535, 65_536, 65_537, 131_072, 200_000}) {
      for (boolean zeros : new boolean[] {true, false}) {
        byte[] content = new byte[size];
        if (!zeros) r.nextBytes(content);
        byte[] frame = write(content);
        try (LZ4FrameInputStream in = new LZ4FrameInputStream(new ByteArrayInputStream(frame))) {
          assertThat(in.readAllBytes()).as("%d bytes, zeros %s", size, zeros).isEqualTo(content);
        }
        // Written in small pieces: the same frame.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Lz4FrameWriter w = new Lz4FrameWriter(out);
        for (int off = 0; off < size; off += 1000) w.write(content, off, Math.min(1000, size - off));
        w.finish();
        assertThat(out.toByteArray()).isEqualTo(frame);
      }
    }
  }
}
