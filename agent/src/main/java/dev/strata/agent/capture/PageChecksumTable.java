package dev.strata.agent.capture;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The LTX page checksum of every page of a database, 8 bytes per page, so that the database checksum can be rolled
 * forward per commit ({@code c = FLAG | (c ^ old[p] ^ new[p])}) without rereading the file.
 *
 * <p>The table lives in a file mapped into memory, so it costs page cache rather than heap, and updating it is
 * writing to memory followed by {@link #force()}. Updates are not atomic; the capture state carries a journal of
 * the last pass's entries that is replayed on start (entries are absolute values, so replaying is idempotent), and
 * the table's XOR is checked against the recorded database checksum before it is trusted.
 */
public final class PageChecksumTable implements AutoCloseable {
  private static final byte[] MAGIC = "STRATAPC".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER = 64;
  private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

  private final Path file;
  private final int pageSize;
  private final int lockPgno;
  private final FileChannel ch;
  private Arena arena;
  private MemorySegment map;
  private long capacity; // entries the mapping holds
  private int pageCount;

  private PageChecksumTable(Path file, FileChannel ch, int pageSize, int pageCount, long capacity)
      throws IOException {
    this.file = file;
    this.ch = ch;
    this.pageSize = pageSize;
    this.lockPgno = LtxHeader.lockPgno(pageSize);
    this.pageCount = pageCount;
    mapCapacity(capacity);
  }

  /** Creates (or replaces) a table file for a database of {@code pageCount} pages; entries start as 0. */
  public static PageChecksumTable create(Path file, int pageSize, int pageCount) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      ch.write(ByteBuffer.wrap(header(pageSize, pageCount)), 0);
      return new PageChecksumTable(file, ch, pageSize, pageCount, grownCapacity(0, pageCount));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Opens an existing table file; null when it is missing or is not a table of this page size. The page count is
   * the caller's to set ({@link #resize}): the recorded capture state is authoritative, not the file.
   */
  public static PageChecksumTable open(Path file, int pageSize) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (NoSuchFileException e) {
      return null;
    }
    try {
      ByteBuffer h = ByteBuffer.allocate(HEADER);
      while (h.hasRemaining() && ch.read(h, h.position()) > 0) {
        // read the whole header
      }
      h.flip();
      byte[] magic = new byte[MAGIC.length];
      if (h.remaining() < HEADER) {
        ch.close();
        return null;
      }
      h.get(magic);
      if (!Arrays.equals(magic, MAGIC) || h.getInt() != pageSize) {
        ch.close();
        return null;
      }
      int count = h.getInt();
      long capacity = Math.max(0, (ch.size() - HEADER) / 8);
      return new PageChecksumTable(file, ch, pageSize, Math.toIntExact(Math.min(count, capacity)), capacity);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static byte[] header(int pageSize, int pageCount) {
    return ByteBuffer.allocate(HEADER).put(MAGIC).putInt(pageSize).putInt(pageCount).array();
  }

  private static long grownCapacity(long current, long needed) {
    return Math.max(needed, Math.max(1024, current + current / 2));
  }

  private void mapCapacity(long entries) throws IOException {
    long bytes = HEADER + entries * 8;
    if (ch.size() < bytes) ch.write(ByteBuffer.wrap(new byte[1]), bytes - 1);
    if (arena != null) arena.close();
    arena = Arena.ofShared();
    map = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
    capacity = entries;
  }

  /** The file holding the table. */
  public Path file() {
    return file;
  }

  /** The database page size. */
  public int pageSize() {
    return pageSize;
  }

  /** Number of pages of the database the table describes. */
  public int pageCount() {
    return pageCount;
  }

  /** Sets the database size; entries beyond the old size are undefined until {@link #set}. */
  public void resize(int pages) throws IOException {
    if (pages > capacity) mapCapacity(grownCapacity(capacity, pages));
    pageCount = pages;
  }

  /** The checksum of page {@code pgno} (1-based, at most {@link #pageCount()}); 0 for the lock page. */
  public long get(int pgno) {
    check(pgno);
    return map.get(ENTRY, HEADER + (long) (pgno - 1) * 8);
  }

  /** Records the checksum of page {@code pgno}. */
  public void set(int pgno, long checksum) {
    check(pgno);
    map.set(ENTRY, HEADER + (long) (pgno - 1) * 8, checksum);
  }

  private void check(int pgno) {
    if (pgno < 1 || pgno > pageCount) {
      throw new IndexOutOfBoundsException("page " + pgno + " outside 1.." + pageCount);
    }
  }

  /**
   * The LTX database checksum of the pages the table holds: {@code FLAG | XOR} of every entry but the lock page.
   * Returns 0 when some entry is missing (not a valid checksum), so an incomplete table never matches.
   */
  public long databaseChecksum() {
    long c = Checksum.EMPTY_DATABASE;
    for (int p = 1; p <= pageCount; p++) {
      if (p == lockPgno) continue;
      long e = map.get(ENTRY, HEADER + (long) (p - 1) * 8);
      if (!Checksum.isValid(e)) return 0;
      c ^= e;
    }
    return Checksum.FLAG | c;
  }

  /** Writes the header and makes every update durable. */
  public void force() throws IOException {
    MemorySegment.copy(MemorySegment.ofArray(header(pageSize, pageCount)), 0, map, 0, 16);
    map.force();
  }

  @Override
  public void close() throws IOException {
    try {
      if (arena != null) arena.close();
      arena = null;
    } finally {
      ch.close();
    }
  }

  /** Removes a table file. */
  public static void delete(Path file) throws IOException {
    Files.deleteIfExists(file);
  }
}
