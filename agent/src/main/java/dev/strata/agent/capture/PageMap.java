package dev.strata.agent.capture;

import java.util.Arrays;

/**
 * A map from page number to a position: for a WAL generation, the latest frame holding each page (what SQLite's
 * wal-index answers for readers), or, for staged pages, their offset in the staging file. Open addressing, so that
 * a large WAL costs 12 bytes per distinct page rather than boxed entries.
 */
final class PageMap {
  private int[] keys = new int[64];
  private long[] frames = new long[64];
  private int size;
  private long through; // frames 1..through are indexed

  /** Frames 1..{@link #through()} are indexed. */
  long through() {
    return through;
  }

  /** Forgets everything (a new generation begins); {@code through} becomes 0. */
  void clear() {
    Arrays.fill(keys, 0);
    size = 0;
    through = 0;
  }

  /** Maps {@code pgno} to {@code frame} (replacing); {@link #through()} becomes at least {@code frame}. */
  void put(int pgno, long frame) {
    if ((size + 1) * 4 > keys.length * 3) grow();
    int i = slot(keys, pgno);
    if (keys[i] == 0) {
      keys[i] = pgno;
      size++;
    }
    frames[i] = frame;
    through = Math.max(through, frame);
  }

  /** Removes {@code pgno}. */
  void remove(int pgno) {
    int i = slot(keys, pgno);
    if (keys[i] == 0) return;
    // backward-shift deletion keeps every remaining key reachable from its home slot
    int mask = keys.length - 1;
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (keys[j] == 0) break;
      int home = home(keys[j], mask);
      boolean between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (between) continue;
      keys[i] = keys[j];
      frames[i] = frames[j];
      i = j;
    }
    keys[i] = 0;
    size--;
  }

  /** Marks frames up to {@code frame} as indexed (frames without pages to record). */
  void advance(long frame) {
    through = Math.max(through, frame);
  }

  /** The position of {@code pgno}, or 0 when the page is not in the map. */
  long frame(int pgno) {
    int i = slot(keys, pgno);
    return keys[i] == 0 ? 0 : frames[i];
  }

  /** The distinct page numbers, in no particular order. */
  int[] pages() {
    int[] out = new int[size];
    int n = 0;
    for (int k : keys) if (k != 0) out[n++] = k;
    return out;
  }

  /** Number of distinct pages. */
  int size() {
    return size;
  }

  private static int home(int pgno, int mask) {
    int h = pgno * 0x9E3779B9;
    return (h ^ (h >>> 16)) & mask;
  }

  private static int slot(int[] keys, int pgno) {
    int mask = keys.length - 1;
    int i = home(pgno, mask);
    while (keys[i] != 0 && keys[i] != pgno) i = (i + 1) & mask;
    return i;
  }

  private void grow() {
    int[] oldKeys = keys;
    long[] oldFrames = frames;
    keys = new int[oldKeys.length * 2];
    frames = new long[oldKeys.length * 2];
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] == 0) continue;
      int j = slot(keys, oldKeys[i]);
      keys[j] = oldKeys[i];
      frames[j] = oldFrames[i];
    }
  }
}
