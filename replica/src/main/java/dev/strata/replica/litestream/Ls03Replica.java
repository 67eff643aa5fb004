package dev.strata.replica.litestream;

import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Lz4FrameReader;
import dev.strata.ltx.Timestamps;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClient.StoredObject;
import dev.strata.replica.restore.DatabaseFileWrites;
import dev.strata.replica.restore.RestoreExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A replica written by Litestream 0.3: {@code generations/<id>/snapshots/<index>.snapshot.lz4} (the database file,
 * LZ4 framed) and {@code generations/<id>/wal/<index>_<offset>.wal.lz4} (the bytes of WAL file {@code index} from
 * {@code offset}, LZ4 framed; the older {@code wal/<index>/<offset>.wal.lz4} form is read too). Read through any
 * {@link ReplicaClient} backend; each file may be age-encrypted (the client then decrypts it).
 *
 * <p>Times are the storage's modification times, as Litestream 0.3 uses them: a restore to a time takes the
 * generation alive at that time, its newest snapshot at or before it and the WAL segments written at or before it.
 */
public final class Ls03Replica {
  private static final Pattern SNAPSHOT = Pattern.compile("([0-9a-f]{8})\\.snapshot\\.lz4");
  private static final Pattern SEGMENT = Pattern.compile("([0-9a-f]{8})_([0-9a-f]{8})\\.wal\\.lz4");
  private static final Pattern OFFSET = Pattern.compile("([0-9a-f]{8})\\.wal\\.lz4");
  private static final Pattern INDEX_DIR = Pattern.compile("[0-9a-f]{8}");

  /** A snapshot: the database at the start of WAL {@code index}. */
  public record Snapshot(String generation, int index, String path, long size, Instant time) {}

  /** A WAL segment: the bytes of WAL {@code index} from {@code offset}. */
  public record Segment(String generation, int index, long offset, String path, long size, Instant time) {}

  /** One generation: its snapshots and WAL segments in order. */
  public record Generation(String id, List<Snapshot> snapshots, List<Segment> segments) {
    /** The earliest time of its files. */
    public Instant createdAt() {
      Instant t = null;
      for (Snapshot s : snapshots) t = t == null || s.time().isBefore(t) ? s.time() : t;
      for (Segment s : segments) t = t == null || s.time().isBefore(t) ? s.time() : t;
      return t == null ? Instant.EPOCH : t;
    }

    /** The latest time of its files. */
    public Instant updatedAt() {
      Instant t = Instant.EPOCH;
      for (Snapshot s : snapshots) t = s.time().isAfter(t) ? s.time() : t;
      for (Segment s : segments) t = s.time().isAfter(t) ? s.time() : t;
      return t;
    }
  }

  /**
   * What a restore applies: a snapshot, then WAL segments up to a point.
   *
   * @param segments in (index, offset) order, from the snapshot's index on
   */
  public record Plan(Generation generation, Snapshot snapshot, List<Segment> segments) {
    /** The last file applied. */
    public String lastPath() {
      return segments.isEmpty() ? snapshot.path() : segments.getLast().path();
    }

    /** The time of the state restored: the last file's. */
    public Instant time() {
      return segments.isEmpty() ? snapshot.time() : segments.getLast().time();
    }

    /** "generation 0123…, index 00000002, offset 0x1038": where this plan ends. */
    public String position() {
      if (segments.isEmpty()) {
        return "generation " + generation.id() + ", index " + hex8(snapshot.index()) + " (snapshot only)";
      }
      Segment s = segments.getLast();
      return "generation " + generation.id() + ", index " + hex8(s.index()) + ", segment " + hex8(s.offset());
    }

    /** Bytes read. */
    public long bytes() {
      long n = snapshot.size();
      for (Segment s : segments) n += s.size();
      return n;
    }
  }

  private final ReplicaClient root;
  private final List<Generation> generations;

  private Ls03Replica(ReplicaClient root, List<Generation> generations) {
    this.root = root;
    this.generations = generations;
  }

  /** Lists the generations, snapshots and WAL segments under {@code root}. */
  public static Ls03Replica open(ReplicaClient root) throws IOException {
    ReplicaClient gens = root.child("generations");
    List<Generation> out = new ArrayList<>();
    for (String id : gens.listChildren()) {
      ReplicaClient g = gens.child(id);
      String base = "generations/" + id + "/";
      List<Snapshot> snapshots = new ArrayList<>();
      for (StoredObject o : g.child("snapshots").listObjects()) {
        Matcher m = SNAPSHOT.matcher(o.name());
        if (m.matches()) {
          snapshots.add(new Snapshot(id, Integer.parseUnsignedInt(m.group(1), 16), base + "snapshots/" + o.name(),
              o.size(), o.modified()));
        }
      }
      List<Segment> segments = new ArrayList<>();
      ReplicaClient wal = g.child("wal");
      for (StoredObject o : wal.listObjects()) {
        Matcher m = SEGMENT.matcher(o.name());
        if (m.matches()) {
          segments.add(new Segment(id, Integer.parseUnsignedInt(m.group(1), 16), Long.parseLong(m.group(2), 16),
              base + "wal/" + o.name(), o.size(), o.modified()));
        }
      }
      for (String dir : wal.listChildren()) { // the older wal/<index>/<offset>.wal.lz4 layout
        if (!INDEX_DIR.matcher(dir).matches()) continue;
        for (StoredObject o : wal.child(dir).listObjects()) {
          Matcher m = OFFSET.matcher(o.name());
          if (m.matches()) {
            segments.add(new Segment(id, Integer.parseUnsignedInt(dir, 16), Long.parseLong(m.group(1), 16),
                base + "wal/" + dir + "/" + o.name(), o.size(), o.modified()));
          }
        }
      }
      snapshots.sort(Comparator.comparingInt(Snapshot::index));
      segments.sort(Comparator.comparingInt(Segment::index).thenComparingLong(Segment::offset));
      out.add(new Generation(id, List.copyOf(snapshots), List.copyOf(segments)));
    }
    return new Ls03Replica(root, List.copyOf(out));
  }

  /** The generations, by name. */
  public List<Generation> generations() {
    return generations;
  }

  /** Where the replica is. */
  public String location() {
    return root.location();
  }

  /** The generation a latest restore uses: the one written last. */
  Generation latestGeneration() throws IOException {
    Generation best = null;
    for (Generation g : generations) {
      if (best == null || g.updatedAt().isAfter(best.updatedAt())) best = g;
    }
    if (best == null) throw new IOException("no Litestream generation in " + root.location());
    return best;
  }

  /**
   * Plans a restore: to the latest state, to {@code time} (the last state written at or before it), to the end of
   * WAL {@code index}, within {@code generation} when given. Every way it cannot be done is a one-line error naming
   * the file or generation; never an older state.
   */
  public Plan plan(String generation, Integer index, Instant time) throws IOException {
    Generation g;
    if (generation != null) {
      g = generations.stream().filter(x -> x.id().equals(generation)).findFirst().orElseThrow(() ->
          new IOException("no generation " + generation + " in " + root.location() + " (generations: "
              + String.join(", ", generations.stream().map(Generation::id).toList()) + ")"));
    } else if (time != null) {
      g = null;
      Snapshot first = null;
      for (Generation x : generations) {
        for (Snapshot s : x.snapshots()) if (first == null || s.time().isBefore(first.time())) first = s;
        if (x.snapshots().isEmpty() || x.snapshots().getFirst().time().isAfter(time)) continue;
        Instant created = x.snapshots().stream().map(Snapshot::time).min(Comparator.naturalOrder()).orElseThrow();
        if (created.isAfter(time)) continue;
        if (g == null || created.isAfter(g.snapshots().stream().map(Snapshot::time)
            .min(Comparator.naturalOrder()).orElseThrow())) {
          g = x;
        }
      }
      if (g == null) {
        if (first == null) throw noSnapshotAnywhere();
        throw new IOException("timestamp " + Timestamps.format(time.toEpochMilli())
            + " is before the first snapshot " + first.path() + " (" + Timestamps.format(first.time().toEpochMilli())
            + ") in " + root.location());
      }
    } else {
      g = latestGeneration();
    }
    if (g.snapshots().isEmpty()) {
      throw new IOException("generation " + g.id() + " has no snapshot (generations/" + g.id()
          + "/snapshots/ is empty) in " + root.location() + ": it cannot be restored");
    }
    Snapshot snap = null;
    for (Snapshot s : g.snapshots()) {
      if (index != null && Integer.compareUnsigned(s.index(), index) > 0) continue;
      if (time != null && s.time().isAfter(time)) continue;
      snap = s;
    }
    if (snap == null) {
      Snapshot f = g.snapshots().getFirst();
      throw new IOException((time != null ? "timestamp " + Timestamps.format(time.toEpochMilli()) : "index "
          + hex8(index)) + " is before the first snapshot " + f.path() + " ("
          + Timestamps.format(f.time().toEpochMilli()) + ") of generation " + g.id());
    }
    List<Segment> segs = new ArrayList<>();
    for (Segment s : g.segments()) {
      if (Integer.compareUnsigned(s.index(), snap.index()) < 0) continue;
      if (index != null && Integer.compareUnsigned(s.index(), index) > 0) break;
      if (time != null && s.time().isAfter(time)) break;
      segs.add(s);
    }
    if (index != null) {
      int reached = segs.isEmpty() ? snap.index() : segs.getLast().index();
      if (reached != index) {
        throw new IOException("index " + hex8(index) + " not found in generation " + g.id() + ": highest index is "
            + hex8(reached));
      }
    }
    checkContiguous(snap, segs);
    return new Plan(g, snap, List.copyOf(segs));
  }

  private IOException noSnapshotAnywhere() {
    return new IOException("no Litestream snapshot in " + root.location());
  }

  /** Segments of consecutive indexes, each index starting at offset 0 (byte continuity is checked while applied). */
  private static void checkContiguous(Snapshot snap, List<Segment> segs) throws IOException {
    Integer current = null;
    for (Segment s : segs) {
      if (current != null && s.index() == current) continue;
      int want = current == null ? snap.index() : current + 1;
      if (s.index() != want || s.offset() != 0) {
        throw new IOException("missing WAL segment generations/" + s.generation() + "/wal/" + hex8(want)
            + "_00000000.wal.lz4 (next is " + s.path() + ")");
      }
      current = s.index();
    }
  }

  /**
   * Restore points: the snapshot of each generation and the end of every WAL segment after it, in order (the
   * first-listed generation first), each with the time of its file.
   */
  public List<Plan> points() {
    List<Plan> out = new ArrayList<>();
    List<Generation> ordered = new ArrayList<>(generations);
    ordered.sort(Comparator.comparing(Generation::createdAt));
    for (Generation g : ordered) {
      if (g.snapshots().isEmpty()) continue;
      Snapshot snap = g.snapshots().getFirst();
      out.add(new Plan(g, snap, List.of()));
      List<Segment> segs = new ArrayList<>();
      for (Segment s : g.segments()) {
        if (Integer.compareUnsigned(s.index(), snap.index()) < 0) continue;
        segs.add(s);
        out.add(new Plan(g, snap, List.copyOf(segs)));
      }
    }
    return out;
  }

  /** Writes the database of {@code plan} into {@code tmp}: the snapshot, then every WAL frame, verified. */
  public RestoreExecutor.Built build(Plan plan, Path tmp) throws IOException {
    return build(plan, tmp, false);
  }

  /** {@link #build(Plan, Path)}, with the LTX database checksum of the result when {@code withChecksum}. */
  public RestoreExecutor.Built build(Plan plan, Path tmp, boolean withChecksum) throws IOException {
    try (FileChannel db = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      // The LTX database checksum proves nothing here (a Litestream 0.3 replica names none to compare with) and
      // costs a CRC of every page: it is computed only when asked for (strata import computes its own).
      PageSums sums = withChecksum ? new PageSums() : null;
      int pageSize = writeSnapshot(plan.snapshot(), db, sums);
      WalApplier wal = null;
      int index = -1;
      Segment last = null;
      SegmentReader segments = new SegmentReader();
      for (Segment s : plan.segments()) {
        if (wal == null || s.index() != index) {
          if (wal != null) wal.finish(last.path());
          wal = new WalApplier(db, pageSize, sums);
          index = s.index();
        } else if (s.offset() != wal.offset()) {
          throw new IOException("missing WAL segment generations/" + s.generation() + "/wal/" + hex8(index) + "_"
              + hex8(wal.offset()) + ".wal.lz4 (next is " + s.path() + ")");
        }
        segments.apply(s, wal);
        last = s;
      }
      if (wal != null) wal.finish(last.path());
      long checksum = sums == null ? 0 : sums.checksum(db.size() / pageSize, pageSize);
      return new RestoreExecutor.Built(0, checksum, "Litestream 0.3 replica, " + plan.position()
          + " (" + Timestamps.format(plan.time().toEpochMilli()) + ")");
    }
  }

  /**
   * Walks every restore point of every generation in order (the generation created first first), applying each
   * snapshot and segment once to the working file {@code work}: the incremental form of {@link #points()}.
   * A segment that does not end at a commit is not a point of its own; it is visited with the next one.
   */
  public void walk(Path work, Litestream.PointVisitor visitor) throws IOException {
    List<Generation> ordered = new ArrayList<>(generations);
    ordered.sort(Comparator.comparing(Generation::createdAt));
    for (Generation g : ordered) {
      if (g.snapshots().isEmpty()) continue;
      Snapshot snap = g.snapshots().getFirst();
      java.nio.file.Files.deleteIfExists(work);
      try (FileChannel db = FileChannel.open(work, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
          StandardOpenOption.READ)) {
        int pageSize = writeSnapshot(snap, db, null);
        visitor.visit(new Plan(g, snap, List.of()).position(), snap.time(), db, pageSize, null, db.size() / pageSize);
        WalApplier wal = null;
        int index = -1;
        Segment last = null;
        java.util.BitSet touched = new java.util.BitSet();
        List<Segment> segs = new ArrayList<>();
        SegmentReader segments = new SegmentReader();
        for (Segment s : g.segments()) {
          if (Integer.compareUnsigned(s.index(), snap.index()) < 0) continue;
          if (wal == null || s.index() != index) {
            if (wal != null) wal.finish(last.path());
            if (s.index() != (wal == null ? snap.index() : index + 1) || s.offset() != 0) {
              throw new IOException("missing WAL segment generations/" + g.id() + "/wal/"
                  + hex8(wal == null ? snap.index() : index + 1) + "_00000000.wal.lz4 (next is " + s.path() + ")");
            }
            wal = new WalApplier(db, pageSize);
            wal.track(touched);
            index = s.index();
          } else if (s.offset() != wal.offset()) {
            throw new IOException("missing WAL segment generations/" + g.id() + "/wal/" + hex8(index) + "_"
                + hex8(wal.offset()) + ".wal.lz4 (next is " + s.path() + ")");
          }
          segments.apply(s, wal);
          last = s;
          segs.add(s);
          if (wal.atCommit() && wal.commitPages() >= 0) {
            visitor.visit(new Plan(g, snap, List.copyOf(segs)).position(), s.time(), db, pageSize, touched, wal.commitPages());
            touched.clear();
          }
        }
        if (wal != null) wal.finish(last.path());
      }
    }
  }

  /**
   * Writes the snapshot's database into {@code db}, decompressing on another thread a few MiB ahead of the writes
   * (and of the page checksums, when {@code sums} is given); returns the page size.
   */
  private int writeSnapshot(Snapshot s, FileChannel db, PageSums sums) throws IOException {
    final int chunk = 1 << 20, chunks = 4; // enough to keep both threads busy; more only costs memory
    record Chunk(byte[] heap, ByteBuffer direct) {}
    java.util.concurrent.BlockingQueue<Chunk> full = new java.util.concurrent.ArrayBlockingQueue<>(chunks);
    java.util.concurrent.BlockingQueue<Chunk> free = new java.util.concurrent.ArrayBlockingQueue<>(chunks);
    for (int i = 0; i < chunks; i++) free.add(new Chunk(new byte[chunk], ByteBuffer.allocateDirect(chunk)));
    Chunk end = new Chunk(new byte[0], ByteBuffer.allocate(0));
    IOException[] failure = new IOException[1];
    int[] pageSize = new int[1];
    // The reader decompresses, checksums the pages when asked, and copies into a direct buffer: the writer only
    // hands whole buffers to the kernel.
    Thread reader = Thread.ofPlatform().name("ls03-snapshot-read").daemon().start(() -> {
      long pos = 0;
      try (InputStream raw = raw(s.path())) {
        InputStream in = Lz4FrameReader.forFiles().open(raw);
        while (true) {
          Chunk c = free.take();
          int n = in.readNBytes(c.heap(), 0, chunk);
          if (n == 0) break;
          if (pos == 0) pageSize[0] = pageSizeOf(s, c.heap(), n);
          int ps = pageSize[0];
          if (sums != null) {
            for (int off = 0; off + ps <= n; off += ps) sums.set((int) ((pos + off) / ps + 1), c.heap(), off, ps);
          }
          c.direct().clear();
          c.direct().put(c.heap(), 0, n).flip();
          pos += n;
          full.put(c);
          if (n < chunk) break;
        }
      } catch (IOException e) {
        failure[0] = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        try {
          full.put(end);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    try {
      long pos = 0;
      while (true) {
        Chunk c = full.take();
        if (c == end) break;
        pos = DatabaseFileWrites.write(db, c.direct(), pos);
        free.put(c);
      }
      reader.join();
      if (failure[0] != null) throw failure[0];
      if (pos == 0) throw new IOException(s.path() + ": snapshot is empty");
      if (pos % pageSize[0] != 0) {
        throw new IOException(s.path() + ": snapshot size " + pos + " is not a multiple of its page size "
            + pageSize[0]);
      }
      return pageSize[0];
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("restore interrupted");
    } catch (IOException e) {
      throw named(s.path(), e);
    } finally {
      reader.interrupt();
    }
  }

  /** The page size in a database header; the header must be SQLite's. */
  private static int pageSizeOf(Snapshot s, byte[] h, int n) throws IOException {
    if (n < 100 || !new String(h, 0, 15, java.nio.charset.StandardCharsets.US_ASCII).equals("SQLite format 3")) {
      throw new IOException(s.path() + ": snapshot is not a SQLite database (bad header)");
    }
    int ps = (h[16] & 0xFF) << 8 | (h[17] & 0xFF);
    if (ps == 1) ps = 65536;
    if (!LtxHeader.isValidPageSize(ps)) throw new IOException(s.path() + ": snapshot has an invalid page size " + ps);
    return ps;
  }

  /** Opens a stored file, buffered (each is one LZ4 frame: see {@link Lz4FrameReader#forFiles()}). */
  private InputStream raw(String path) throws IOException {
    return new java.io.BufferedInputStream(open(path), 256 * 1024);
  }

  /** Feeds WAL segments to their applier, one after another with the same buffers. */
  private final class SegmentReader {
    private final Lz4FrameReader frames = Lz4FrameReader.forFiles();
    private final byte[] buf = new byte[256 * 1024];

    void apply(Segment s, WalApplier wal) throws IOException {
      try (InputStream raw = raw(s.path())) {
        InputStream in = frames.open(raw);
        for (int n; (n = in.read(buf)) > 0; ) wal.feed(buf, 0, n, s.path());
      } catch (IOException e) {
        throw named(s.path(), e);
      }
    }
  }

  /** Opens a file by its path under the root ({@code generations/<id>/…}). */
  InputStream open(String path) throws IOException {
    String[] parts = path.split("/");
    ReplicaClient c = root;
    for (int i = 0; i < parts.length - 1; i++) c = c.child(parts[i]);
    return c.openObject(parts[parts.length - 1], 0);
  }

  /** An error that names the file, once. */
  private IOException named(String path, IOException e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof NoSuchFileException) return new IOException(path + " is missing in " + root.location(), e);
    if (m.contains(path)) return e;
    if (e.getClass().getName().startsWith("dev.strata.replica.age.")) {
      return new IOException(path + ": " + m, e);
    }
    return new IOException(path + " in " + root.location() + ": " + m, e);
  }

  static String hex8(long v) {
    return HexFormat.of().toHexDigits((int) v);
  }
}
