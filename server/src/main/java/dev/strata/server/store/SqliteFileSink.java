package dev.strata.server.store;

import dev.strata.ltx.LtxHeader;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes a state as a plain SQLite database file: pages in order, the lock page as zeros. The last page is held
 * back until {@link #end} has confirmed the checksum, so a reader never gets a complete-looking wrong file.
 */
public final class SqliteFileSink implements PageSink {
  private final OutputStream out;
  private byte[] held;
  private int lockPgno;
  private long commit;
  private long next = 1;

  public SqliteFileSink(OutputStream out) {
    this.out = out;
  }

  /** Bytes a state of {@code commit} pages takes. */
  public static long size(TxnRow txn) {
    return Integer.toUnsignedLong(txn.commit()) * txn.pageSize();
  }

  @Override
  public void begin(TxnRow txn) {
    lockPgno = LtxHeader.lockPgno(txn.pageSize());
    commit = Integer.toUnsignedLong(txn.commit());
    held = new byte[txn.pageSize()];
  }

  @Override
  public void page(int pgno, byte[] data) throws IOException {
    if (next > 1) out.write(held);
    if (next == lockPgno && pgno == lockPgno + 1) out.write(new byte[data.length]);
    System.arraycopy(data, 0, held, 0, data.length);
    next = Integer.toUnsignedLong(pgno) + 1;
  }

  @Override
  public void end() throws IOException {
    if (next > 1) out.write(held);
    if (next == lockPgno && commit >= lockPgno) out.write(new byte[held.length]);
    out.flush();
  }
}
