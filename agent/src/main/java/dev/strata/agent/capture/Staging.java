package dev.strata.agent.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The commits captured since the last level-0 file, with their pages copied out of the WAL into a local file, so
 * that the WAL can be checkpointed and restarted (which overwrites it) between two level-0 files. Nothing here is
 * fsynced: after a crash the state on disk is the last level-0 file, and capture starts over from there.
 *
 * <p>Pages are appended; the map keeps the offset of each page's latest version.
 */
final class Staging implements AutoCloseable {
  private final FileChannel ch;
  private final int pageSize;
  private final PageMap offsets = new PageMap(); // pgno -> offset + 1
  private long end;
  private int commits;
  private int preCommit;
  private int minCommit;
  private int commit;
  private int salt1;
  private int salt2;
  private long walOffset;
  private long walBytes;
  private boolean oneGeneration;
  private long markEnd = -1; // while marked: the file end to go back to, and the pages to restore
  private int[] undoPgnos = new int[64]; // reused: a capture stages thousands of pages per step
  private long[] undoOffsets = new long[64];
  private int undoCount;

  Staging(Path file, int pageSize) throws IOException {
    this.ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    this.pageSize = pageSize;
  }

  /** The page size of the staged pages. */
  int pageSize() {
    return pageSize;
  }

  /** True when no commit is staged. */
  boolean isEmpty() {
    return commits == 0;
  }

  /** Starts staging after a level-0 file: the database had {@code commit} pages. */
  void begin(int dbCommit) {
    preCommit = minCommit = commit = dbCommit;
  }

  /** Records the commits of one scan: the smallest database size among them and the size after the last. */
  void addCommits(int count, int smallest, int last, int walSalt1, int walSalt2, long firstFrameOffset, long bytes) {
    if (commits == 0) {
      salt1 = walSalt1;
      salt2 = walSalt2;
      walOffset = firstFrameOffset;
      oneGeneration = true;
    } else if (salt1 != walSalt1 || salt2 != walSalt2 || walOffset + walBytes != firstFrameOffset) {
      oneGeneration = false;
    }
    walBytes += bytes;
    commits += count;
    minCommit = Math.min(minCommit, smallest);
    commit = last;
  }

  /** Stages {@code page} as the latest version of {@code pgno}. */
  void put(int pgno, byte[] page) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(page, 0, pageSize);
    long at = end;
    while (b.hasRemaining()) at += ch.write(b, at);
    if (markEnd >= 0) remember(pgno, offsets.frame(pgno));
    offsets.put(pgno, end + 1);
    end = at;
  }

  private void remember(int pgno, long offset) {
    if (undoCount == undoPgnos.length) {
      undoPgnos = Arrays.copyOf(undoPgnos, undoCount * 2);
      undoOffsets = Arrays.copyOf(undoOffsets, undoCount * 2);
    }
    undoPgnos[undoCount] = pgno;
    undoOffsets[undoCount++] = offset;
  }

  /** Remembers the current contents so that {@link #rollback()} can return to them. */
  void mark() {
    markEnd = end;
    undoCount = 0;
  }

  /** Keeps what was staged since {@link #mark()}. */
  void unmark() {
    markEnd = -1;
    undoCount = 0;
  }

  /** Forgets the pages staged since {@link #mark()}. */
  void rollback() {
    if (markEnd < 0) return;
    for (int i = undoCount - 1; i >= 0; i--) {
      if (undoOffsets[i] == 0) offsets.remove(undoPgnos[i]);
      else offsets.put(undoPgnos[i], undoOffsets[i]);
    }
    end = markEnd;
    unmark();
  }

  /** True when {@code pgno} is staged. */
  boolean has(int pgno) {
    return offsets.frame(pgno) != 0;
  }

  /** Reads the staged version of {@code pgno}. */
  void read(int pgno, byte[] page) throws IOException {
    long at = offsets.frame(pgno) - 1;
    ByteBuffer b = ByteBuffer.wrap(page, 0, pageSize);
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) throw new IOException("staging file ends early");
    }
  }

  /** The staged page numbers at or below the current database size, ascending. */
  int[] pages() {
    int[] all = offsets.pages();
    int n = 0;
    for (int p : all) if (p <= commit) all[n++] = p;
    int[] out = Arrays.copyOf(all, n);
    Arrays.sort(out);
    return out;
  }

  /** Number of SQLite commits staged. */
  int commits() {
    return commits;
  }

  /** Database size before the staged commits. */
  int preCommit() {
    return preCommit;
  }

  /** Smallest database size during the staged commits. */
  int minCommit() {
    return minCommit;
  }

  /** Database size after the staged commits. */
  int commit() {
    return commit;
  }

  /** Bytes of the staging file. */
  long bytes() {
    return end;
  }

  /** WAL offset of the first staged frame, or 0 when the commits span WAL generations. */
  long walOffset() {
    return oneGeneration ? walOffset : 0;
  }

  /** WAL bytes the staged commits came from, or 0 when they span generations. */
  long walBytes() {
    return oneGeneration ? walBytes : 0;
  }

  /** Salt-1 of the WAL generation, or 0 when the commits span generations. */
  int salt1() {
    return oneGeneration ? salt1 : 0;
  }

  /** Salt-2 of the WAL generation, or 0 when the commits span generations. */
  int salt2() {
    return oneGeneration ? salt2 : 0;
  }

  /** Forgets everything staged (after a level-0 file was written). */
  void clear() throws IOException {
    offsets.clear();
    end = 0;
    commits = 0;
    walBytes = 0;
    ch.truncate(0);
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
