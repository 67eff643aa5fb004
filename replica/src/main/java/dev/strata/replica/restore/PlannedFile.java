package dev.strata.replica.restore;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One file of a restore plan, decoded on its own thread a batch of pages ahead of the merge, so that decoding
 * (LZ4 and checksums) of every file runs in parallel with the merge and the writes. The merge sees one page at a
 * time: {@link #pgno}, {@link #page}, {@link #advance()}. Memory: two batches of about {@code batchBytes}.
 */
final class PlannedFile implements AutoCloseable {
  /** Up to {@code count} decoded pages; the last batch of a file carries its verified trailer or the failure. */
  private static final class Batch {
    final int[] pgnos;
    final byte[][] pages;
    int count;
    boolean last;
    LtxTrailer trailer;
    IOException failure;

    Batch(int n, int pageSize) {
      pgnos = new int[n];
      pages = new byte[n][pageSize];
    }
  }

  final LtxFileMeta file;
  private final LtxDecoder decoder;
  private final BlockingQueue<Batch> ready = new ArrayBlockingQueue<>(2);
  private final BlockingQueue<Batch> spare = new ArrayBlockingQueue<>(2);
  private final Thread thread;
  private Batch current;
  private int index;
  private LtxTrailer trailer;

  /** The page number offered now; 0 once the file's pages are exhausted. */
  int pgno;
  /** The page offered now (valid until the next {@link #advance()}). */
  byte[] page;

  /** Reads the header at once (so that a bad file fails early) and starts decoding. */
  PlannedFile(LtxFileMeta file, InputStream in, int batchBytes) throws IOException {
    this.file = file;
    try {
      decoder = new LtxDecoder(in);
    } catch (IOException e) {
      in.close();
      throw wrap(file, e);
    }
    LtxHeader h = decoder.header();
    if (h.minTxid() != file.minTxid() || h.maxTxid() != file.maxTxid()) { // e.g. a file copied over another
      in.close();
      throw corrupt(file, "its header holds TXIDs " + new TxidRange(h.minTxid(), h.maxTxid())
          + ", not those of its name");
    }
    int pageSize = decoder.header().pageSize();
    int n = Math.max(1, batchBytes / pageSize);
    spare.add(new Batch(n, pageSize));
    spare.add(new Batch(n, pageSize));
    thread = Thread.ofPlatform().daemon().name("restore-decode-" + file.fileName()).start(this::decode);
  }

  LtxHeader header() {
    return decoder.header();
  }

  private void decode() {
    try {
      while (true) {
        Batch b = spare.take();
        b.count = 0;
        try {
          while (b.count < b.pgnos.length) {
            int p = decoder.readPage(b.pages[b.count]);
            if (p == 0) {
              b.trailer = decoder.finish(); // verifies the file checksum (and a snapshot's database checksum)
              b.last = true;
              break;
            }
            b.pgnos[b.count++] = p;
          }
        } catch (IOException e) {
          b.failure = e;
          b.last = true;
        } catch (RuntimeException e) { // a decoder bug must fail the restore, not leave the merge waiting forever
          b.failure = new IOException(e.toString(), e);
          b.last = true;
        }
        ready.put(b);
        if (b.last) return;
      }
    } catch (InterruptedException e) {
      // closed before the end: nothing waits for this thread any more
    }
  }

  /** Moves to the next page; throws, naming the file, when decoding it failed. */
  void advance() throws IOException {
    while (current == null || index >= current.count) {
      if (current != null) {
        if (current.last) {
          if (current.failure != null) throw wrap(file, current.failure);
          trailer = current.trailer;
          pgno = 0;
          page = null;
          return;
        }
        spare.add(current);
      }
      try {
        current = ready.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("restore interrupted");
      }
      index = 0;
    }
    pgno = current.pgnos[index];
    page = current.pages[index];
    index++;
  }

  /** The verified trailer; valid once {@link #advance()} has reached the end. */
  LtxTrailer trailer() throws IOException {
    while (trailer == null) advance();
    return trailer;
  }

  /** An error naming the file and its TXID range. */
  static IOException wrap(LtxFileMeta file, IOException e) {
    if (e instanceof LtxException) return corrupt(file, e.getMessage());
    return new IOException("reading replica file " + file.path() + " (TXIDs " + file.range()
        + ") failed: " + e.getMessage(), e);
  }

  static IOException corrupt(LtxFileMeta file, String why) {
    return new IOException("replica file " + file.path() + " (TXIDs " + file.range() + ") is corrupt: "
        + why);
  }

  @Override
  public void close() throws IOException {
    thread.interrupt();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    decoder.close();
  }
}
