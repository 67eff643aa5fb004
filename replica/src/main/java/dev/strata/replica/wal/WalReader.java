package dev.strata.replica.wal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a SQLite WAL file as it is being written by other processes. It never trusts a frame whose salts or
 * cumulative checksum do not hold, and it reports only frames up to the last commit frame, so a transaction still
 * being written (or torn by a crash) is never seen.
 *
 * <p>The reader holds the file open; reopen it each time a fresh view of the file is needed, because SQLite may
 * delete and recreate the WAL.
 */
public final class WalReader implements AutoCloseable {
  /** The most a scan reads at once: a {@link ScanBuffer} grows to this size at most. */
  static final int CHUNK_BYTES = 1 << 20;
  /** The first read of a scan: most passes of a busy database find a handful of new frames. */
  private static final int FIRST_READ_FRAMES = 16;

  private final FileChannel ch; // null when the file does not exist
  private final ScanBuffer buffer;

  private WalReader(FileChannel ch, ScanBuffer buffer) {
    this.ch = ch;
    this.buffer = buffer;
  }

  /**
   * The bytes a scan reads into, kept by a caller that scans often (the capture scans every few milliseconds while
   * a database is busy): a new megabyte per scan was most of the agent's allocation and so of its heap.
   */
  public static final class ScanBuffer {
    private byte[] bytes = new byte[0];

    byte[] atLeast(int n) {
      if (bytes.length < n) bytes = new byte[n];
      return bytes;
    }
  }

  /** Opens a WAL file for reading; a missing file reads as empty. */
  public static WalReader open(Path wal) throws IOException {
    return open(wal, new ScanBuffer());
  }

  /** Opens a WAL file for reading, scanning into {@code buffer}; a missing file reads as empty. */
  public static WalReader open(Path wal, ScanBuffer buffer) throws IOException {
    // Never opened if it is something else: a FIFO would block the open until a writer came.
    if (Files.exists(wal) && !Files.isRegularFile(wal)) throw new IOException(wal + " is not a regular file");
    try {
      return new WalReader(FileChannel.open(wal, StandardOpenOption.READ), buffer);
    } catch (NoSuchFileException e) {
      return new WalReader(null, buffer);
    }
  }

  /** Current size of the file in bytes; 0 when it does not exist. */
  public long size() throws IOException {
    return ch == null ? 0 : ch.size();
  }

  /**
   * The header, or null when the file is missing or shorter than a header (SQLite has not written one yet, or a
   * TRUNCATE checkpoint emptied it). Throws {@link WalException} when 32 bytes are there but are not a valid
   * header.
   */
  public WalHeader readHeader() throws IOException {
    if (size() < WalHeader.SIZE) return null;
    byte[] b = new byte[WalHeader.SIZE];
    if (!readFully(b, 0, b.length, 0)) return null;
    return WalHeader.decode(b);
  }

  /** The header of frame {@code n}, or null when the file ends before it. Not verified. */
  public WalFrameHeader readFrameHeader(WalHeader h, long n) throws IOException {
    byte[] b = new byte[WalFrameHeader.SIZE];
    if (!readFully(b, 0, b.length, h.frameOffset(n))) return null;
    return WalFrameHeader.decode(b, 0);
  }

  /**
   * True when frame {@code n} still belongs to generation {@code h} and carries cumulative checksum
   * {@code checksum}: the cheap proof that the frames up to {@code n} are the ones read before.
   */
  public boolean frameMatches(WalHeader h, long n, long checksum) throws IOException {
    if (n == 0) return h.checksum() == checksum;
    WalFrameHeader f = readFrameHeader(h, n);
    return f != null && h.saltsMatch(f.salt1(), f.salt2()) && f.checksum() == checksum;
  }

  /** Reads the page of frame {@code n} into {@code page} (at least a page long). */
  public void readPage(WalHeader h, long n, byte[] page) throws IOException {
    if (!readFully(page, 0, h.pageSize(), h.frameOffset(n) + WalFrameHeader.SIZE)) {
      throw new EOFException("wal ends inside frame " + n);
    }
  }

  /**
   * Reads forward from frame {@code after + 1}, verifying each frame's salts against {@code h} and its cumulative
   * checksum starting from {@code checksum} (the checksum at frame {@code after}, or the header's when
   * {@code after} is 0). Stops at the first frame that is missing, torn, or fails a check, and returns the
   * frames up to the last commit frame before that point.
   */
  public WalScan scan(WalHeader h, long after, long checksum) throws IOException {
    return scan(h, after, checksum, Long.MAX_VALUE);
  }

  /**
   * As {@link #scan(WalHeader, long, long)}, but reads no further once {@code limitFrames} frames were read and a
   * commit was found among them ({@link WalScan#more()} then says so): what a scan allocates stays bounded however
   * far behind its caller is.
   */
  public WalScan scan(WalHeader h, long after, long checksum, long limitFrames) throws IOException {
    int frameSize = h.frameSize();
    long available = Math.max(0, (size() - h.frameOffset(after + 1)) / frameSize);
    if (available == 0) return new WalScan(after, after, checksum, new int[0], 0, 0, 0, false);
    // The file often extends past the valid frames (SQLite rewrites a WAL from its start without shrinking it), so
    // reads start small and double while every frame read verifies.
    int maxFrames = Math.max(1, CHUNK_BYTES / frameSize);
    int chunkFrames = (int) Math.min(available, FIRST_READ_FRAMES);
    int[] pgnos = new int[(int) Math.min(64, available)];
    int commits = 0, smallest = Integer.MAX_VALUE, last = 0;
    long sum = checksum, committedSum = checksum;
    long next = after + 1, committed = after;
    int count = 0;
    boolean done = false, more = false;
    while (!done) {
      if (count >= limitFrames && commits > 0) {
        more = true;
        break;
      }
      long offset = h.frameOffset(next);
      byte[] buf = buffer.atLeast(chunkFrames * frameSize); // grows only for a database that needs it
      int got = read(buf, chunkFrames * frameSize, offset);
      int frames = got / frameSize;
      if (frames == 0) break;
      for (int i = 0; i < frames; i++, next++) {
        int off = i * frameSize;
        WalFrameHeader f = WalFrameHeader.decode(buf, off);
        if (!h.saltsMatch(f.salt1(), f.salt2())) {
          done = true;
          break;
        }
        long s = WalChecksum.update(sum, buf, off, 8, h.bigEndianChecksum());
        s = WalChecksum.update(s, buf, off + WalFrameHeader.SIZE, h.pageSize(), h.bigEndianChecksum());
        if (s != f.checksum()) {
          done = true;
          break;
        }
        sum = s;
        if (count == pgnos.length) pgnos = Arrays.copyOf(pgnos, Math.max(64, count * 2));
        pgnos[count++] = f.pgno();
        if (f.isCommit()) {
          committed = next;
          committedSum = s;
          commits++;
          smallest = Math.min(smallest, f.commitSize());
          last = f.commitSize();
        }
      }
      if (got < chunkFrames * frameSize) break; // end of file reached
      chunkFrames = Math.min(maxFrames, chunkFrames * 2);
    }
    int n = (int) (committed - after);
    return new WalScan(after, committed, committedSum, n == pgnos.length ? pgnos : Arrays.copyOf(pgnos, n), commits,
        commits == 0 ? 0 : smallest, last, more);
  }

  private int read(byte[] b, int len, long position) throws IOException {
    if (ch == null) return 0;
    ByteBuffer bb = ByteBuffer.wrap(b, 0, len);
    while (bb.hasRemaining()) {
      int n = ch.read(bb, position + bb.position());
      if (n < 0) break;
    }
    return bb.position();
  }

  private boolean readFully(byte[] b, int off, int len, long position) throws IOException {
    if (ch == null) return false;
    ByteBuffer bb = ByteBuffer.wrap(b, off, len);
    while (bb.hasRemaining()) {
      if (ch.read(bb, position + (bb.position() - off)) < 0) return false;
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    if (ch != null) ch.close();
  }
}
