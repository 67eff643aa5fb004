package dev.strata.server.compaction;

import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** Reading what storage holds for one database: listings, and header fields when a listing lacks them. */
public final class RemoteFiles {
  private RemoteFiles() {}

  /**
   * The file with its header fields and post-apply checksum; when the listing did not carry them (S3), one
   * {@link ReplicaClient#head} request fetches them, and when even that finds no metadata (an object written by
   * another tool) they are read from the file's first 100 and last 16 bytes.
   */
  public static LtxFileMeta describe(ReplicaClient r, LtxFileMeta f) throws IOException {
    if (f.hasHeader() && f.postApplyChecksum() != 0) return f;
    LtxFileMeta h = r.head(f.level(), f.range());
    if (h.hasHeader() && h.postApplyChecksum() != 0) return h;
    byte[] head = new byte[LtxHeader.SIZE], tail = new byte[LtxTrailer.SIZE];
    try (InputStream in = r.openFile(f.level(), f.range(), 0)) {
      if (in.readNBytes(head, 0, head.length) < head.length) throw new LtxException("short file " + f.fileName());
    }
    try (InputStream in = r.openFile(f.level(), f.range(), h.size() - LtxTrailer.SIZE)) {
      if (in.readNBytes(tail, 0, tail.length) < tail.length) throw new LtxException("short file " + f.fileName());
    }
    LtxFileInfo info = new LtxFileInfo(LtxHeader.decode(head), LtxTrailer.decode(tail, 0), -1);
    return LtxFileMeta.of(f.level(), info, h.size(), h.createdAt());
  }

  /** Requests in flight at once when describing many files (as litefs-backup does). */
  public static final int PARALLEL = 32;

  /** Describes files, up to {@link #PARALLEL} at a time; the result is in the order given. */
  public static List<LtxFileMeta> describeAll(ReplicaClient r, List<LtxFileMeta> files) throws IOException {
    if (files.stream().allMatch(f -> f.hasHeader() && f.postApplyChecksum() != 0)) return files;
    LtxFileMeta[] out = new LtxFileMeta[files.size()];
    IOException[] error = new IOException[1];
    java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(PARALLEL);
    List<Thread> threads = new ArrayList<>(files.size());
    for (int i = 0; i < files.size(); i++) {
      int at = i;
      slots.acquireUninterruptibly();
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          out[at] = describe(r, files.get(at));
        } catch (IOException e) {
          synchronized (error) {
            error[0] = e;
          }
        } finally {
          slots.release();
        }
      }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted describing files");
      }
    }
    if (error[0] != null) throw error[0];
    return List.of(out);
  }

  /** Opens every file of a list for reading, in order; closes those opened if one fails. */
  public static List<InputStream> openAll(ReplicaClient r, List<LtxFileMeta> files) throws IOException {
    List<InputStream> streams = new ArrayList<>(files.size());
    try {
      for (LtxFileMeta f : files) streams.add(r.openFile(f.level(), f.range(), 0));
      return streams;
    } catch (IOException | RuntimeException e) {
      for (InputStream s : streams) s.close();
      throw e;
    }
  }
}
