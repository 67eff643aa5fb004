package dev.strata.replica.litestream;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Txid;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreResult;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code strata import}: turns a Litestream replica's history into a Strata replica. Every Litestream restore point
 * that can be reproduced (a snapshot, the end of a WAL segment at a commit, the end of an LTX file on the finest
 * chain) becomes one Strata TXID: the first a level-9 snapshot, each next a level-0 file holding the pages that
 * changed, with the point's time as its timestamp and real rolling database checksums, so that {@code strata
 * replicate} on the same database continues the chain. Then a sample of points is restored from both replicas and
 * compared.
 */
public final class LitestreamImport {
  private LitestreamImport() {}

  /** One imported point. */
  public record Point(long txid, Instant time, String litestream, long checksum) {}

  /** What an import did. */
  public record Result(Litestream.Version version, List<Point> points, long bytesWritten,
      int verified) {}

  /** Imports {@code src} into the empty Strata replica {@code dst}, using {@code work} for temporary files. */
  public static Result run(ReplicaClient src, ReplicaClient dst, Path work, int samples, Consumer<String> log)
      throws IOException {
    Litestream.Version v = Litestream.detect(src);
    if (v == null) throw new IOException("no Litestream replica in " + src.location());
    if (Litestream.detect(dst) != null) Litestream.refuseAsTarget(dst);
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) {
      if (!dst.listFiles(level).isEmpty()) {
        throw new IOException("replica " + dst.location() + " already holds Strata files (level " + level
            + "): import into an empty replica");
      }
    }
    Files.createDirectories(work);
    Path db = work.resolve("import.db"), ltx = work.resolve("import.ltx");
    Writer w = new Writer(dst, ltx);
    Litestream.walk(src, v, db, w::visit);
    Files.deleteIfExists(db);
    Files.deleteIfExists(ltx);
    log.accept("imported " + w.points.size() + " restore points of the " + v.label() + " replica "
        + src.location() + " into " + dst.location() + " (TXIDs 0000000000000001-"
        + Txid.format(w.points.size()) + ")");
    int verified = verify(src, v, dst, w.points, work, samples, log);
    return new Result(v, List.copyOf(w.points), w.written, verified);
  }

  /** Writes one Strata file per point, keeping the page checksums to roll the database checksum. */
  private static final class Writer {
    private static final int RUN_BYTES = 256 * 1024;

    final ReplicaClient dst;
    final Path ltx;
    final List<Point> points = new ArrayList<>();
    long[] sums = new long[1024]; // page checksums without the flag, index pgno
    long database; // XOR of sums
    long commit;
    long written;

    Writer(ReplicaClient dst, Path ltx) {
      this.dst = dst;
      this.ltx = ltx;
    }

    void visit(String position, Instant time, FileChannel db, int pageSize, BitSet touched, long commitPages)
        throws IOException {
      long txid = points.size() + 1;
      boolean snapshot = txid == 1;
      int lock = LtxHeader.lockPgno(pageSize);
      BitSet pages = new BitSet();
      if (snapshot || touched == null) pages.set(1, (int) commitPages + 1);
      else pages.or(touched);
      if (commitPages < Integer.MAX_VALUE) pages.clear((int) commitPages + 1, Math.max(pages.length(), (int) commitPages + 1));
      pages.clear(lock);
      long pre = snapshot ? 0 : Checksum.FLAG | database;
      // pages beyond the new end leave the database
      for (long p = commitPages + 1; p <= commit && p < sums.length; p++) {
        database ^= sums[(int) p];
        sums[(int) p] = 0;
      }
      if (commitPages + 1 > sums.length) sums = Arrays.copyOf(sums, (int) Math.max(commitPages + 1, sums.length * 2L));
      int flags = LtxHeader.FLAG_COMPRESS_LZ4;
      LtxHeader h = LtxHeader.of(flags, pageSize, (int) commitPages, snapshot ? 1 : txid, txid, time.toEpochMilli(),
          pre);
      // Pages are read in runs of consecutive ones, up to RUN_BYTES at a time: a snapshot is one read per run
      // rather than one per page. Each page's CRC is computed once, for its checksum and its LTX frame alike.
      byte[] run = new byte[Math.max(pageSize, RUN_BYTES / pageSize * pageSize)];
      int runPages = run.length / pageSize;
      LtxTrailer trailer;
      long count;
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(ltx), 256 * 1024)) {
        LtxEncoder enc = new LtxEncoder(out, h);
        for (int first = pages.nextSetBit(1); first >= 0; ) {
          int end = pages.nextClearBit(first); // the run is [first, end)
          int n = Math.min(end - first, runPages);
          ByteBuffer b = ByteBuffer.wrap(run, 0, n * pageSize);
          long pos = (long) (first - 1) * pageSize;
          while (b.hasRemaining()) {
            if (db.read(b, pos + b.position()) < 0) {
              throw new IOException("working database ends before page " + (first + b.position() / pageSize));
            }
          }
          for (int i = 0; i < n; i++) {
            int p = first + i;
            long sum = Checksum.pageCrc(p, run, i * pageSize, pageSize);
            database ^= sums[p] ^ sum;
            sums[p] = sum;
            enc.encodePage(p, run, i * pageSize, sum);
          }
          first = pages.nextSetBit(first + n);
        }
        count = enc.pageCount();
        trailer = enc.finish(Checksum.FLAG | database);
      }
      commit = commitPages;
      long size = Files.size(ltx);
      try (InputStream in = Files.newInputStream(ltx)) {
        dst.writeFile(snapshot ? ReplicaClient.MAX_LEVEL : 0, new LtxFileInfo(h, trailer, count), in, size);
      }
      written += size;
      points.add(new Point(txid, time, position, Checksum.FLAG | database));
    }
  }

  /**
   * Restores {@code samples} points (the first, the last and some between) from both replicas and compares their
   * database checksums; returns how many were compared.
   */
  static int verify(ReplicaClient src, Litestream.Version v, ReplicaClient dst, List<Point> points, Path work,
      int samples, Consumer<String> log) throws IOException {
    if (points.isEmpty() || samples <= 0) return 0;
    // the Litestream side of each imported point, by its position text
    java.util.Map<String, Litestream.Prepared> byPosition = new java.util.HashMap<>();
    for (Litestream.Prepared p : Litestream.points(src, v)) byPosition.put(p.position(), p);
    java.util.TreeSet<Integer> pick = new java.util.TreeSet<>();
    pick.add(0);
    pick.add(points.size() - 1);
    for (int i = 1; i < samples - 1 && pick.size() < Math.min(samples, points.size()); i++) {
      pick.add((int) ((long) i * (points.size() - 1) / (samples - 1)));
    }
    int done = 0;
    RestoreExecutor exec = new RestoreExecutor(dst, RestoreExecutor.Options.defaults());
    for (int i : pick) {
      Point pt = points.get(i);
      Litestream.Prepared lp = byPosition.get(pt.litestream());
      if (lp == null) continue; // a point of the finest chain that the listing reaches differently
      Path a = work.resolve("verify-litestream.db"), b = work.resolve("verify-strata.db");
      Files.deleteIfExists(a);
      Files.deleteIfExists(b);
      RestoreResult ra = new RestoreExecutor(src, RestoreExecutor.Options.defaults()).restoreBuilt(a, lp.checksummed());
      RestoreResult rb = exec.restore(new RestorePlanner(dst).toTxid(pt.txid()), b);
      if (ra.checksum() != rb.checksum() || ra.checksum() != pt.checksum()) {
        throw new IOException("import check failed at TXID " + Txid.format(pt.txid()) + " (" + pt.litestream()
            + "): Litestream restore " + Checksum.format(ra.checksum()) + ", Strata restore "
            + Checksum.format(rb.checksum()));
      }
      Files.deleteIfExists(a);
      Files.deleteIfExists(b);
      done++;
    }
    log.accept("verified " + done + " restore points: the Strata and Litestream restores are identical");
    return done;
  }
}
