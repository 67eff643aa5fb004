package dev.strata.agent.capture;

/**
 * What capture has recorded as done: the last TXID written to the local store, the database after it, and where
 * in the WAL it stopped.
 *
 * @param txid the last TXID captured (0 before the first snapshot)
 * @param postApplyChecksum the LTX database checksum after {@code txid}
 * @param commit the database size in pages after {@code txid}
 * @param database the database file the state belongs to
 * @param wal where capture stopped in the WAL; null when no WAL generation was read
 * @param journal the page checksums set by the pass that wrote {@code txid}: the checksum table may lag behind
 *     the state by exactly these entries after a crash
 */
public record CaptureState(
    long txid,
    long postApplyChecksum,
    int pageSize,
    int commit,
    FileIdentity database,
    WalPosition wal,
    Journal journal) {

  /** Page checksums written by one pass, as parallel arrays. */
  public record Journal(int[] pgnos, long[] checksums) {
    /** No entries: the table was written whole (after a snapshot or a verifying read). */
    public static final Journal EMPTY = new Journal(new int[0], new long[0]);

    public Journal {
      if (pgnos.length != checksums.length) throw new IllegalArgumentException("journal arrays differ in length");
    }

    /** Number of entries. */
    public int size() {
      return pgnos.length;
    }
  }

  /** The same state with another WAL position. */
  public CaptureState withWal(WalPosition newWal) {
    return new CaptureState(txid, postApplyChecksum, pageSize, commit, database, newWal, journal);
  }
}
