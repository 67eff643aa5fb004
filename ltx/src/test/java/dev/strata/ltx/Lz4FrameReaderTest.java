package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;
import org.junit.jupiter.api.Test;

/** The LZ4 frame reader accepts any valid frame of independent blocks and stops exactly at its end (spec §1.5). */
class Lz4FrameReaderTest {
  private static final LZ4Compressor LZ4 = LZ4Factory.fastestInstance().fastCompressor();
  private static final XXHash32 XXH = XXHashFactory.fastestInstance().hash32();

  /** Builds a frame by hand with the given options: the variants another LZ4 writer might produce. */
  private static byte[] frame(byte[] content, int blockSizeCode, boolean blockChecksums, boolean contentSize,
      boolean contentChecksum) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int flg = 0x40 | 0x20 | (blockChecksums ? 0x10 : 0) | (contentSize ? 0x08 : 0) | (contentChecksum ? 0x04 : 0);
    byte[] descriptor = new byte[contentSize ? 10 : 2];
    descriptor[0] = (byte) flg;
    descriptor[1] = (byte) (blockSizeCode << 4);
    for (int i = 0; contentSize && i < 8; i++) descriptor[2 + i] = (byte) ((long) content.length >>> (8 * i));
    out.write(new byte[] {0x04, 0x22, 0x4d, 0x18});
    out.write(descriptor);
    out.write((XXH.hash(descriptor, 0, descriptor.length, 0) >>> 8) & 0xFF);
    int blockSize = 1 << (8 + 2 * blockSizeCode);
    for (int off = 0; off < content.length; off += blockSize) {
      int n = Math.min(blockSize, content.length - off);
      byte[] c = new byte[LZ4.maxCompressedLength(n)];
      int cn = LZ4.compress(content, off, n, c, 0);
      byte[] block = cn < n ? Arrays.copyOf(c, cn) : Arrays.copyOfRange(content, off, off + n);
      writeIntLE(out, cn < n ? cn : n | 0x80000000);
      out.write(block);
      if (blockChecksums) writeIntLE(out, XXH.hash(block, 0, block.length, 0));
    }
    writeIntLE(out, 0);
    if (contentChecksum) writeIntLE(out, XXH.hash(content, 0, content.length, 0));
    return out.toByteArray();
  }

  private static void writeIntLE(ByteArrayOutputStream out, int v) {
    out.write(v);
    out.write(v >>> 8);
    out.write(v >>> 16);
    out.write(v >>> 24);
  }

  private static byte[] content(int size) {
    byte[] b = new byte[size];
    Random r = new Random(size);
    for (int i = 0; i < size; i++) b[i] = (byte) (r.nextInt(4) == 0 ? r.nextInt(256) : 'a' + i % 7);
    return b;
  }

  /** Reads one frame and returns its content; the bytes after the frame must still be unread. */
  private static byte[] read(byte[] frame) throws IOException {
    byte[] withTrailer = Arrays.copyOf(frame, frame.length + 3);
    withTrailer[frame.length] = 'T';
    ByteArrayInputStream in = new ByteArrayInputStream(withTrailer);
    Lz4FrameReader r = new Lz4FrameReader(in);
    r.open();
    byte[] got = r.readAllBytes();
    assertThat(in.read()).as("the reader stops at the frame's end").isEqualTo('T');
    return got;
  }

  @Test
  void readsWhatTheLtxWriterWrites() throws IOException {
    byte[] content = content(200_000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Lz4FrameWriter w = new Lz4FrameWriter(out);
    w.write(content, 0, 1000);
    w.write(content, 1000, content.length - 1000);
    w.finish();
    assertThat(read(out.toByteArray())).isEqualTo(content);
  }

  @Test
  void acceptsBlockChecksumsContentSizeAndLargerBlocks() throws IOException {
    byte[] content = content(300_000);
    for (int code = 4; code <= 7; code++) {
      assertThat(read(frame(content, code, true, true, true))).as("block size code %d", code).isEqualTo(content);
      assertThat(read(frame(content, code, false, false, false))).isEqualTo(content);
    }
  }

  @Test
  void reusesItsBuffersFromFrameToFrame() throws IOException {
    byte[] a = content(5000), b = content(70_000);
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.write(frame(a, 4, false, false, true));
    both.write(frame(b, 5, true, false, true));
    Lz4FrameReader r = new Lz4FrameReader(new ByteArrayInputStream(both.toByteArray()));
    r.open();
    assertThat(r.readAllBytes()).isEqualTo(a);
    r.open();
    assertThat(r.readAllBytes()).isEqualTo(b);
  }

  @Test
  void readsFilesOfOneFrameEachAndRefusesDataAfterTheFrame() throws IOException {
    byte[] a = content(5000), b = content(300_000);
    Lz4FrameReader files = Lz4FrameReader.forFiles();
    assertThat(files.open(new ByteArrayInputStream(frame(a, 7, false, false, true))).readAllBytes()).isEqualTo(a);
    assertThat(files.open(new ByteArrayInputStream(frame(b, 4, true, true, true))).readAllBytes()).isEqualTo(b);
    byte[] f = frame(a, 4, false, false, true);
    byte[] trailing = Arrays.copyOf(f, f.length + 1);
    assertThatThrownBy(() -> files.open(new ByteArrayInputStream(trailing)).readAllBytes())
        .isInstanceOf(LtxException.class).hasMessage("lz4: data after the end of the frame");
  }

  @Test
  void rejectsLinkedBlocks() throws IOException {
    byte[] f = frame(content(10), 4, false, false, true);
    f[4] &= ~0x20;
    f[6] = (byte) ((XXH.hash(f, 4, 2, 0) >>> 8) & 0xFF);
    assertThatThrownBy(() -> read(f)).isInstanceOf(LtxException.class).hasMessage("lz4: linked blocks are not supported");
  }

  @Test
  void rejectsAHeaderChecksumMismatch() throws IOException {
    byte[] f = frame(content(10), 4, false, false, true);
    f[6] ^= 1;
    assertThatThrownBy(() -> read(f)).isInstanceOf(LtxException.class).hasMessage("lz4: frame header checksum mismatch");
  }

  @Test
  void rejectsABlockChecksumMismatch() throws IOException {
    byte[] f = frame(content(1000), 4, true, false, false);
    f[f.length - 5] ^= 1; // last byte of the block checksum, before the end mark
    assertThatThrownBy(() -> read(f)).isInstanceOf(LtxException.class).hasMessage("lz4: block checksum mismatch");
  }

  @Test
  void rejectsAContentChecksumMismatch() throws IOException {
    byte[] f = frame(content(1000), 4, false, false, true);
    f[f.length - 1] ^= 1;
    assertThatThrownBy(() -> read(f)).isInstanceOf(LtxException.class).hasMessage("lz4: content checksum mismatch");
  }

  @Test
  void rejectsAContentChecksumMismatchInAFrameOfSeveralBlocks() throws IOException {
    byte[] f = frame(content(200_000), 4, false, false, true);
    f[f.length - 1] ^= 1;
    assertThatThrownBy(() -> read(f)).isInstanceOf(LtxException.class).hasMessage("lz4: content checksum mismatch");
  }

  /**
   * One reader through frames of one block and of several, some compressing far more than eightfold (zeros, which
   * outgrow the reader's first guess of a block's size), in every order: contents and checksums all hold.
   */
  @Test
  void readsFramesOfOneBlockAndOfManyOneAfterTheOther() throws IOException {
    byte[][] contents = {new byte[3000], content(3000), new byte[200_000], content(200_000), new byte[65_536],
        content(100), new byte[0], new byte[70_000], content(5000)};
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] c : contents) all.write(frame(c, 4, false, false, true));
    Lz4FrameReader r = new Lz4FrameReader(new ByteArrayInputStream(all.toByteArray()));
    for (byte[] c : contents) {
      r.open();
      assertThat(r.readAllBytes()).isEqualTo(c);
    }
  }

  @Test
  void rejectsABlockLargerThanTheFrameAllows() throws IOException {
    byte[] f = frame(content(1000), 4, false, false, false);
    f[7 + 2] = 0x02; // block size 0x0002xxxx > 64 KiB
    assertThatThrownBy(() -> read(f)).isInstanceOf(LtxException.class)
        .hasMessageEndingWith("exceeds the frame's block size");
  }

  @Test
  void rejectsOtherMagic() {
    assertThatThrownBy(() -> read(new byte[] {0x04, 0x22, 0x4d, 0x19, 0x64, 0x40, (byte) 0xa7}))
        .isInstanceOf(LtxException.class).hasMessage("lz4: invalid frame magic");
  }
}
