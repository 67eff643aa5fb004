package dev.strata.replica.wal;

/**
 * What one forward read of a WAL generation found: the committed frames {@code after+1 … endFrame}, all of whose
 * salts and cumulative checksums held. Frames after the last commit frame (an uncommitted or torn tail) are never
 * part of a scan.
 *
 * <p>Only counts and sizes of the commits are kept, not one object per commit: an agent that fell behind a fast
 * writer scans hundreds of thousands of commits at once.
 *
 * @param after the frame the scan continued from (0 = the header)
 * @param endFrame the last commit frame read ({@code == after} when nothing new was committed)
 * @param checksum the cumulative checksum at {@code endFrame}, packed as in {@link WalChecksum}
 * @param pgnos page number of frame {@code after + 1 + i}, for each committed frame
 * @param commits the number of commit frames: one per SQLite transaction
 * @param smallestCommitSize the smallest database size in pages declared by those commit frames (0 when none)
 * @param commitSize the database size in pages declared by the last commit frame (0 when none)
 * @param more true when the scan stopped at its frame limit with frames left to read
 */
public record WalScan(long after, long endFrame, long checksum, int[] pgnos, int commits, int smallestCommitSize,
    int commitSize, boolean more) {

  /** True when at least one transaction was committed after {@code after}. */
  public boolean hasCommits() {
    return commits > 0;
  }

  /** Page number of frame {@code n} ({@code after < n <= endFrame}). */
  public int pgno(long n) {
    return pgnos[(int) (n - after - 1)];
  }
}
