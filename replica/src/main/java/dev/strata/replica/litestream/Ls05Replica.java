package dev.strata.replica.litestream;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFormat;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.restore.RestoreExecutor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A replica written by Litestream 0.5: {@code ltx/<level>/<min>-<max>.ltx}, LTX v3 files (levels 0–8 and snapshots
 * in level 9), read through any {@link ReplicaClient} backend. A restore follows Litestream 0.5's plan: the newest
 * snapshot at or before the target, then, level by level from the highest, the files that extend it contiguously
 * without passing the target (a file's time is its header timestamp). Every file's CRC-64 is verified; v3 files
 * carry no database checksums.
 */
public final class Ls05Replica {
  private final ReplicaClient ltx;
  private final List<List<LtxFileMeta>> levels = new ArrayList<>();

  private Ls05Replica(ReplicaClient ltx) {
    this.ltx = ltx;
  }

  /** Lists the levels of {@code root}/ltx, with the header of every file. */
  public static Ls05Replica open(ReplicaClient root) throws IOException {
    Ls05Replica r = new Ls05Replica(root.child("ltx"));
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) {
      List<LtxFileMeta> files = new ArrayList<>();
      for (LtxFileMeta f : r.ltx.listFiles(level)) files.add(f.hasHeader() ? f : r.describe(f));
      r.levels.add(files);
    }
    return r;
  }

  /** Reads the header of a file listed bare (S3). */
  private LtxFileMeta describe(LtxFileMeta f) throws IOException {
    try (InputStream in = ltx.openFile(f.level(), f.range(), 0)) {
      byte[] h = in.readNBytes(LtxHeader.SIZE);
      LtxHeader header = LtxHeader.decode(h);
      return new LtxFileMeta(f.level(), f.range(), f.size(), f.createdAt(), header.pageSize(), header.commit(),
          header.timestamp(), header.preApplyChecksum(), 0);
    } catch (IOException e) {
      throw new IOException("ltx/" + f.path() + " in " + ltx.location() + ": " + e.getMessage(), e);
    }
  }

  /** Where the replica is. */
  public String location() {
    return ltx.location();
  }

  /** The files of a level. */
  public List<LtxFileMeta> files(int level) {
    return levels.get(level);
  }

  /** A restore plan: the files applied in order. */
  public record Plan(List<LtxFileMeta> files) {
    public long txid() {
      return files.getLast().maxTxid();
    }

    public long timestamp() {
      long t = 0;
      for (LtxFileMeta f : files) t = Math.max(t, f.timestamp());
      return t;
    }

    public long bytes() {
      return files.stream().mapToLong(LtxFileMeta::size).sum();
    }

    public String position() {
      return "TXID " + Txid.format(txid());
    }
  }

  /** Plans a restore to the latest state, to TXID {@code txid} exactly, or to the last state at or before {@code time}. */
  public Plan plan(Long txid, Instant time) throws IOException {
    List<LtxFileMeta> plan = new ArrayList<>();
    long reached = 0;
    LtxFileMeta snapshot = null;
    for (LtxFileMeta f : levels.get(ReplicaClient.MAX_LEVEL)) {
      if (fits(f, txid, time)) snapshot = f;
    }
    if (snapshot != null) {
      plan.add(snapshot);
      reached = snapshot.maxTxid();
    }
    for (int level = ReplicaClient.MAX_LEVEL - 1; level >= 0; level--) {
      for (LtxFileMeta f : levels.get(level)) {
        if (!fits(f, txid, time)) continue;
        if (Long.compareUnsigned(f.maxTxid(), reached) <= 0) continue;
        if (Long.compareUnsigned(f.minTxid(), reached + 1) > 0) break;
        plan.add(f);
        reached = f.maxTxid();
      }
    }
    if (plan.isEmpty() || plan.getFirst().minTxid() != 1) {
      LtxFileMeta first = null;
      for (List<LtxFileMeta> l : levels) {
        for (LtxFileMeta f : l) if (f.minTxid() == 1 && (first == null || f.timestamp() < first.timestamp())) first = f;
      }
      if (first == null) throw new IOException("no Litestream snapshot in " + ltx.location());
      throw new IOException((time != null ? "timestamp " + Timestamps.format(time.toEpochMilli())
          : "TXID " + Txid.format(txid)) + " is before the first snapshot ltx/" + first.path() + " ("
          + Timestamps.format(first.timestamp()) + ") in " + ltx.location());
    }
    if (txid != null && reached != txid) {
      throw new IOException("TXID " + Txid.format(txid) + " cannot be restored from " + ltx.location()
          + ": the files reach TXID " + Txid.format(reached) + " at most");
    }
    return new Plan(List.copyOf(plan));
  }

  private static boolean fits(LtxFileMeta f, Long txid, Instant time) {
    if (txid != null && Long.compareUnsigned(f.maxTxid(), txid) > 0) return false;
    return time == null || f.timestamp() <= time.toEpochMilli();
  }

  /** Restore points: the end of every file from which a plan reaches, with its time. */
  public List<Plan> points() {
    List<Plan> out = new ArrayList<>();
    java.util.TreeMap<Long, LtxFileMeta> ends = new java.util.TreeMap<>(Long::compareUnsigned);
    for (List<LtxFileMeta> l : levels) for (LtxFileMeta f : l) ends.putIfAbsent(f.maxTxid(), f);
    for (long t : ends.keySet()) {
      try {
        out.add(plan(t, null));
      } catch (IOException e) {
        // not reachable from a snapshot
      }
    }
    return out;
  }

  /**
   * Walks the finest chain of restore points: from the first snapshot, each time the file that extends the
   * position least (the lowest level's), applying each once to {@code work}.
   */
  public void walk(Path work, Litestream.PointVisitor visitor) throws IOException {
    List<LtxFileMeta> all = new ArrayList<>();
    for (List<LtxFileMeta> l : levels) all.addAll(l);
    LtxFileMeta first = null;
    for (LtxFileMeta f : all) {
      if (f.minTxid() == 1 && (first == null || Long.compareUnsigned(f.maxTxid(), first.maxTxid()) < 0)) first = f;
    }
    if (first == null) throw new IOException("no Litestream snapshot in " + ltx.location());
    java.nio.file.Files.deleteIfExists(work);
    try (FileChannel db = FileChannel.open(work, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      LtxFileMeta f = first;
      boolean snapshot = true;
      int pageSize = 0;
      while (f != null) {
        java.util.BitSet touched = new java.util.BitSet();
        LtxHeader h = apply(f, db, touched);
        pageSize = h.pageSize();
        long commit = Integer.toUnsignedLong(h.commit());
        db.truncate(commit * pageSize);
        visitor.visit("TXID " + Txid.format(f.maxTxid()), Instant.ofEpochMilli(h.timestamp()), db, pageSize,
            snapshot ? null : touched, commit);
        snapshot = false;
        long reached = f.maxTxid();
        LtxFileMeta next = null;
        for (LtxFileMeta g : all) {
          if (Long.compareUnsigned(g.maxTxid(), reached) <= 0 || Long.compareUnsigned(g.minTxid(), reached + 1) > 0) {
            continue;
          }
          if (next == null || Long.compareUnsigned(g.maxTxid(), next.maxTxid()) < 0) next = g;
        }
        f = next;
      }
    }
  }

  /** Applies one file's pages to {@code db}; returns its header. */
  private LtxHeader apply(LtxFileMeta f, FileChannel db, java.util.BitSet touched) throws IOException {
    try (InputStream in = new BufferedInputStream(ltx.openFile(f.level(), f.range(), 0), 256 * 1024);
        LtxDecoder d = new LtxDecoder(in, LtxFormat.V3)) {
      LtxHeader h = d.header();
      byte[] page = new byte[h.pageSize()];
      for (int pgno; (pgno = d.readPage(page)) != 0; ) {
        ByteBuffer b = ByteBuffer.wrap(page);
        long pos = (Integer.toUnsignedLong(pgno) - 1) * h.pageSize();
        while (b.hasRemaining()) db.write(b, pos + b.position());
        touched.set(pgno);
      }
      d.finish();
      return h;
    } catch (IOException e) {
      throw new IOException("ltx/" + f.path() + " in " + ltx.location() + ": " + e.getMessage(), e);
    }
  }

  /** Writes the database of {@code plan} into {@code tmp}, verifying every file's checksum. */
  public RestoreExecutor.Built build(Plan plan, Path tmp) throws IOException {
    try (FileChannel db = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      int pageSize = 0;
      long commit = 0;
      for (LtxFileMeta f : plan.files()) {
        try (InputStream in = new BufferedInputStream(ltx.openFile(f.level(), f.range(), 0), 256 * 1024);
            LtxDecoder d = new LtxDecoder(in, LtxFormat.V3)) {
          LtxHeader h = d.header();
          if (h.minTxid() != f.minTxid() || h.maxTxid() != f.maxTxid()) {
            throw new IOException("header covers TXIDs " + Txid.format(h.minTxid()) + "-" + Txid.format(h.maxTxid()));
          }
          if (pageSize == 0) pageSize = h.pageSize();
          else if (h.pageSize() != pageSize) throw new IOException("page size " + h.pageSize() + " differs");
          byte[] page = new byte[pageSize];
          for (int pgno; (pgno = d.readPage(page)) != 0; ) {
            ByteBuffer b = ByteBuffer.wrap(page);
            long pos = (Integer.toUnsignedLong(pgno) - 1) * pageSize;
            while (b.hasRemaining()) db.write(b, pos + b.position());
          }
          d.finish();
          commit = Integer.toUnsignedLong(h.commit());
        } catch (IOException e) {
          throw new IOException("ltx/" + f.path() + " in " + ltx.location() + ": " + e.getMessage(), e);
        }
      }
      db.truncate(commit * pageSize);
      if (db.size() < commit * pageSize) throw new IOException("restored database has fewer pages than " + commit);
      db.force(false);
      long checksum = LitestreamFiles.databaseChecksum(db, pageSize);
      return new RestoreExecutor.Built(plan.txid(), checksum, "Litestream 0.5 replica, " + plan.position()
          + " (" + Timestamps.format(plan.timestamp()) + ")");
    }
  }
}
