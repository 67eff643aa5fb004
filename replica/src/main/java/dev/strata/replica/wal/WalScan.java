package dev.strata.replica.wal;

import java.util.List;

/**
 * What one forward read of a WAL generation found: the committed frames {@code after+1 … endFrame}, all of whose
 * salts and cumulative checksums held. Frames after the last commit frame (an uncommitted or torn tail) are never
 * part of a scan.
 *
 * @param after the frame the scan continued from (0 = the header)
 * @param endFrame the last commit frame read ({@code == after} when nothing new was committed)
 * @param checksum the cumulative checksum at {@code endFrame}, packed as in {@link WalChecksum}
 * @param pgnos page number of frame {@code after + 1 + i}, for each committed frame
 * @param commits the commit frames in order: one per SQLite transaction
 */
public record WalScan(long after, long endFrame, long checksum, int[] pgnos, List<Commit> commits) {

  /** A commit frame and the database size in pages it declares. */
  public record Commit(long frame, int commitSize) {}

  /** True when at least one transaction was committed after {@code after}. */
  public boolean hasCommits() {
    return !commits.isEmpty();
  }

  /** Page number of frame {@code n} ({@code after < n <= endFrame}). */
  public int pgno(long n) {
    return pgnos[(int) (n - after - 1)];
  }

  /** Database size in pages after the last commit; only when {@link #hasCommits()}. */
  public int commitSize() {
    return commits.getLast().commitSize();
  }
}
