package dev.strata.replica.restore;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ResumableInputStream;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.file.FileReplicaClient;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Carries out a {@link RestorePlan} (DESIGN.md "Restore", invariant 2): fetches the planned files (in parallel and
 * resumably from a remote replica; read in place from a local one), merges them page by page into
 * {@code <output>.tmp} — each page written once, in page order, newest file wins, the lock page left as a hole —
 * then checks that the database checksum of the pages written equals the plan's post-apply checksum, runs SQLite's
 * integrity check, fsyncs and renames. On any failure the partial output is removed and nothing existing is
 * touched.
 *
 * <p>Every planned file is decoded on its own thread a batch ahead of the merge, and pages are written by another
 * thread, so that decompression, checksums and writes overlap. Memory use depends on the number of planned files
 * (at most {@link #MAX_MERGED} at once), not on the database size.
 */
public final class RestoreExecutor {
  private static final int READ_BUFFER = 256 * 1024;
  /** Files merged at once at most; longer plans are merged in groups first. */
  static final int MAX_MERGED = 64;
  // Read buffers and decode-ahead batches: large for the snapshot, which holds most pages; small for the rest,
  // so that memory stays within a few MiB per file whatever the database size.
  private static final int BASE_BUFFER = 1 << 20, BUFFER = 64 * 1024;
  private static final int BASE_BATCH = 512 * 1024, BATCH = 64 * 1024;

  /**
   * How a restore runs.
   *
   * @param parallelism how many files are downloaded at once from a remote replica
   * @param force replace an existing output file and its -wal, -shm and -journal files
   */
  public record Options(int parallelism, IntegrityCheck integrityCheck, boolean force, RestoreProgress progress) {
    public Options {
      if (parallelism < 1) throw new IllegalArgumentException("parallelism must be at least 1");
      if (integrityCheck == null) integrityCheck = IntegrityCheck.QUICK;
      if (progress == null) progress = RestoreProgress.silent();
    }

    /** Eight downloads at once, quick check, no overwrite, no progress display. */
    public static Options defaults() {
      return new Options(8, IntegrityCheck.QUICK, false, RestoreProgress.silent());
    }
  }

  private final ReplicaClient client;
  private final Options options;

  public RestoreExecutor(ReplicaClient client, Options options) {
    this.client = client;
    this.options = options;
  }

  /** Restores {@code plan} into {@code output}; see the class comment. */
  public RestoreResult restore(RestorePlan plan, Path output) throws IOException {
    Path out = output.toAbsolutePath().normalize();
    checkOutput(out);
    Path dir = out.getParent();
    Files.createDirectories(dir);
    Path tmp = sibling(out, ".tmp");
    Files.deleteIfExists(tmp); // left by a restore that was killed
    deleteStaleDownloads(dir, out.getFileName().toString());
    Path downloads = null;
    RestoreProgress progress = options.progress();
    options.integrityCheck().preload();
    boolean done = false;
    Fetches fetches = null;
    long started = System.nanoTime(); // downloads, premerge and merge count as the merge in the final line
    try {
      List<Source> sources;
      if (client.readsInPlace()) {
        sources = plan.files().stream().map(f -> new Source(f, null, null)).toList();
      } else {
        downloads = Files.createTempDirectory(dir, "." + out.getFileName() + ".restore-");
        fetches = new Fetches(plan, downloads);
        sources = fetches.sources;
      }
      if (sources.size() > MAX_MERGED) {
        if (downloads == null) downloads = Files.createTempDirectory(dir, "." + out.getFileName() + ".restore-");
        sources = premerge(sources, downloads);
      }
      long checksum = merge(plan, sources, tmp, fetches == null);
      if (fetches != null) fetches.await();
      long merged = System.nanoTime();
      long size = Files.size(tmp);
      long checked = checkAndPlace(tmp, out, progress);
      progress.step(String.format(java.util.Locale.ROOT, "restored TXID %s to %s (%s, checksum %s) in %.1f s:"
          + " %s %.1f s, %s %.1f s", Txid.format(plan.targetTxid()), out, RestoreProgress.size(size),
          Checksum.format(checksum), (System.nanoTime() - started) / 1e9,
          fetches == null ? "merge" : "download and merge", (merged - started) / 1e9,
          checkName(), (checked - merged) / 1e9));
      done = true;
      return new RestoreResult(out, plan.targetTxid(), checksum, size);
    } finally {
      if (fetches != null) fetches.close();
      if (!done) Files.deleteIfExists(tmp);
      if (downloads != null) deleteQuietly(downloads);
      progress.end();
    }
  }

  /** Syncs the built file and runs the integrity check, then renames it into place; returns when the check ended. */
  private long checkAndPlace(Path tmp, Path out, RestoreProgress progress) throws IOException {
    progress.step(options.integrityCheck() == IntegrityCheck.NONE ? "syncing (integrity check skipped)"
        : "syncing and running " + options.integrityCheck().name().toLowerCase(java.util.Locale.ROOT)
            + " integrity check");
    syncAndCheck(tmp);
    long checked = System.nanoTime();
    if (options.force()) replace(tmp, out);
    else placeNew(tmp, out);
    return checked;
  }

  /** What the step after the merge did, for the final line. */
  private String checkName() {
    return options.integrityCheck() == IntegrityCheck.NONE ? "fsync" : "integrity check and fsync";
  }

  /** Writes a whole database into the temporary file it is given (another tool's replica, applied). */
  public interface Builder {
    /** Writes the database into {@code tmp} (which does not exist yet); returns what it restored. */
    Built build(Path tmp) throws IOException;
  }

  /**
   * What a {@link Builder} restored.
   *
   * @param txid the position restored, in the builder's own terms (0 when it has none)
   * @param checksum the database checksum of the file written (the LTX whole-database checksum)
   * @param description what was restored, for the final line ("Litestream 0.3 replica, generation …")
   */
  public record Built(long txid, long checksum, String description) {}

  /**
   * Restores a database that {@code builder} writes, with the same output handling as {@link #restore}: built in
   * {@code <output>.tmp}, fsynced and checked by SQLite, then renamed into place without replacing an existing file
   * unless forced; on any failure the partial output is removed.
   */
  public RestoreResult restoreBuilt(Path output, Builder builder) throws IOException {
    Path out = output.toAbsolutePath().normalize();
    checkOutput(out);
    Files.createDirectories(out.getParent());
    Path tmp = sibling(out, ".tmp");
    Files.deleteIfExists(tmp);
    RestoreProgress progress = options.progress();
    options.integrityCheck().preload();
    boolean done = false;
    long started = System.nanoTime();
    try {
      Built built = builder.build(tmp);
      long merged = System.nanoTime();
      long size = Files.size(tmp);
      long checked = checkAndPlace(tmp, out, progress);
      progress.step(String.format(java.util.Locale.ROOT, "restored %s to %s (%s%s) in %.1f s:"
          + " apply %.1f s, %s %.1f s", built.description(), out, RestoreProgress.size(size),
          built.checksum() == 0 ? "" : ", checksum " + Checksum.format(built.checksum()),
          (System.nanoTime() - started) / 1e9, (merged - started) / 1e9,
          checkName(), (checked - merged) / 1e9));
      done = true;
      return new RestoreResult(out, built.txid(), built.checksum(), size);
    } finally {
      if (!done) Files.deleteIfExists(tmp);
      progress.end();
    }
  }

  /** Fsyncs the file while SQLite checks it from the page cache: both must be done before the rename. */
  private void syncAndCheck(Path tmp) throws IOException {
    Thread check = null;
    IOException[] checkFailure = new IOException[1];
    if (options.integrityCheck() != IntegrityCheck.NONE) {
      check = Thread.ofPlatform().name("restore-check").start(() -> {
        try {
          options.integrityCheck().run(tmp);
        } catch (IOException e) {
          checkFailure[0] = e;
        }
      });
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    } finally {
      if (check != null) {
        try {
          check.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("restore interrupted");
        }
      }
    }
    if (checkFailure[0] != null) throw checkFailure[0];
  }

  private void checkOutput(Path out) throws IOException {
    if (options.force()) return;
    for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
      Path p = sibling(out, suffix);
      if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("output file already exists: " + p + " (use --force to replace it)");
      }
    }
  }

  private static Path sibling(Path p, String suffix) {
    return p.resolveSibling(p.getFileName() + suffix);
  }

  /**
   * Moves the file into place only if nothing took the name meanwhile: a hard link fails on an existing name, so
   * a database created while the restore ran is never replaced. Filesystems without hard links fall back to a
   * check and a rename.
   */
  private static void placeNew(Path tmp, Path out) throws IOException {
    try {
      Files.createLink(out, tmp);
      Files.delete(tmp);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      throw new IOException("output file already exists: " + out + " (it appeared during the restore)");
    } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
      if (Files.exists(out, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("output file already exists: " + out + " (it appeared during the restore)");
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    }
    FileReplicaClient.fsyncDirectory(out.getParent());
  }

  /** Deletes the old database's side files first: an old -wal replayed onto the new file would corrupt it. */
  private static void replace(Path tmp, Path out) throws IOException {
    for (String suffix : new String[] {"-wal", "-shm", "-journal"}) Files.deleteIfExists(sibling(out, suffix));
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    FileReplicaClient.fsyncDirectory(out.getParent());
  }

  /**
   * One planned file and where its bytes come from: a download in progress, a local temporary file, or (both null)
   * the replica itself.
   */
  private record Source(LtxFileMeta file, Path local, Download download) {}

  /**
   * The downloads of a remote restore, {@code parallelism} at a time, largest first, each resuming from where its
   * connection broke. The merge reads each file while it arrives. (A large file is fetched in one request:
   * splitting it into ranged reads would need a read with an end offset, which {@link ReplicaClient} does not
   * offer, and closing an S3 stream early drains the rest of the object.)
   */
  private final class Fetches implements AutoCloseable {
    final List<Source> sources = new ArrayList<>();
    private final ExecutorService pool;
    private final List<Future<?>> futures = new ArrayList<>();

    Fetches(RestorePlan plan, Path dir) throws IOException {
      options.progress().phase("download and merge", plan.files().size(), plan.totalBytes());
      List<Integer> order = new ArrayList<>();
      try {
        for (int i = 0; i < plan.files().size(); i++) {
          LtxFileMeta f = plan.files().get(i);
          Download d = new Download(dir.resolve(i + "-" + f.level() + "-" + f.fileName()));
          sources.add(new Source(f, null, d));
          order.add(i);
        }
      } catch (IOException e) {
        for (Source s : sources) s.download().close();
        throw e;
      }
      pool = Executors.newFixedThreadPool(Math.min(options.parallelism(), plan.files().size()),
          Thread.ofVirtual().name("restore-get-", 0).factory());
      order.sort((a, b) -> Long.compare(plan.files().get(b).size(), plan.files().get(a).size()));
      for (int i : order) {
        Source s = sources.get(i);
        futures.add(pool.submit(() -> fetch(s.file(), s.download())));
      }
    }

    private Void fetch(LtxFileMeta f, Download d) throws IOException {
      try (InputStream in = new ResumableInputStream(client, f.level(), f.range())) {
        byte[] buf = new byte[READ_BUFFER];
        for (int r; (r = in.read(buf)) > 0; ) {
          d.append(buf, r);
          options.progress().add(r);
        }
        if (f.size() > 0 && d.written() != f.size()) {
          throw new IOException("replica file " + f.path() + " (TXIDs " + f.range() + "): listed as "
              + f.size() + " bytes but " + d.written() + " were read");
        }
        d.complete();
        options.progress().fileDone();
        return null;
      } catch (IOException e) {
        d.fail(e);
        throw e;
      }
    }

    /** Waits for every download; throws the first failure. */
    void await() throws IOException {
      try {
        for (Future<?> fu : futures) fu.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) throw io;
        throw new IOException("download failed: " + e.getCause(), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("restore interrupted");
      }
    }

    /** Stops what still runs (after a failure) and releases the files. */
    @Override
    public void close() throws IOException {
      pool.shutdownNow();
      for (Source s : sources) s.download().close();
      pool.close();
    }
  }

  /** Merges the sources into {@code tmp}; returns the verified database checksum. */
  private long merge(RestorePlan plan, List<Source> sources, Path tmp, boolean countBytes) throws IOException {
    RestoreProgress progress = options.progress();
    if (countBytes) progress.phase("merge", sources.size(), plan.totalBytes());
    List<PlannedFile> inputs = new ArrayList<>();
    try {
      for (int i = 0; i < sources.size(); i++) {
        inputs.add(open(sources.get(i), i == 0, countBytes ? progress : RestoreProgress.silent()));
      }
      LtxHeader first = inputs.getFirst().header(), last = inputs.getLast().header();
      if (first.minTxid() != 1) {
        throw PlannedFile.corrupt(inputs.getFirst().file, "the first file of a restore must be a snapshot");
      }
      long reached = 0;
      for (PlannedFile in : inputs) {
        LtxHeader h = in.header();
        if (h.pageSize() != first.pageSize()) {
          throw PlannedFile.corrupt(in.file, "page size " + h.pageSize() + " differs from the snapshot's "
              + first.pageSize());
        }
        if (h.minTxid() != in.file.minTxid() || h.maxTxid() != in.file.maxTxid()) {
          throw PlannedFile.corrupt(in.file, "header covers TXIDs " + Txid.format(h.minTxid()) + "-"
              + Txid.format(h.maxTxid()));
        }
        if (reached != 0 && h.minTxid() > reached + 1) {
          throw new IOException("restore plan has a gap before " + in.file.path());
        }
        reached = Math.max(reached, h.maxTxid());
      }
      int pageSize = first.pageSize();
      long commit = Integer.toUnsignedLong(last.commit());
      int lockPgno = LtxHeader.lockPgno(pageSize);
      PlannedFile base = inputs.getFirst();
      // The database checksum of the pages written, kept as the snapshot's verified checksum corrected by the
      // pages that replace or drop snapshot pages: the same value as summing every written page, at the cost of
      // the changed pages only (the decoder already checksums every snapshot page once).
      long added = 0, removed = 0, written = 0;
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          PageWriter writer = new PageWriter(ch, tmp, pageSize)) {
        for (PlannedFile in : inputs) in.advance();
        while (true) {
          // Most pages come from the snapshot alone: those below the next page of every other file are written
          // without comparing all the files page by page.
          int others = lowestPgno(inputs.subList(1, inputs.size())); // 0: no other file has pages left
          while (base.pgno != 0 && (others == 0 || Integer.compareUnsigned(base.pgno, others) < 0)) {
            int pgno = base.pgno;
            if (Integer.toUnsignedLong(pgno) <= commit && pgno != lockPgno) {
              writer.write(pgno, base.page);
              written++;
            } else {
              removed ^= Checksum.ofPage(pgno, base.page);
            }
            base.advance();
          }
          PlannedFile winner = null; // lowest page number; among equals the newest file, which comes last
          for (int i = inputs.size() - 1; i >= 0; i--) {
            PlannedFile in = inputs.get(i);
            if (in.pgno != 0 && (winner == null || Integer.compareUnsigned(in.pgno, winner.pgno) < 0)) winner = in;
          }
          if (winner == null) break;
          int pgno = winner.pgno;
          boolean keep = Integer.toUnsignedLong(pgno) <= commit && pgno != lockPgno;
          if (keep) {
            writer.write(pgno, winner.page);
            written++;
            if (winner != base) added ^= Checksum.ofPage(pgno, winner.page);
          }
          if (base.pgno == pgno && (winner != base || !keep)) removed ^= Checksum.ofPage(pgno, base.page);
          for (PlannedFile in : inputs) {
            if (in.pgno == pgno) in.advance();
          }
        }
        List<LtxTrailer> trailers = new ArrayList<>();
        for (PlannedFile in : inputs) { // every file verified, the snapshot's database checksum included
          trailers.add(in.trailer());
          if (countBytes) progress.fileDone();
        }
        LtxTrailer trailer = trailers.getLast();
        long want = commit >= lockPgno ? commit - 1 : commit;
        if (written != want) {
          throw new IOException("restored database has " + written + " of " + want + " pages: the plan to TXID "
              + Txid.format(plan.targetTxid()) + " does not cover every page");
        }
        long checksum = Checksum.FLAG | (trailers.getFirst().postApplyChecksum() ^ removed ^ added);
        if (plan.expectedChecksum() != 0 && plan.expectedChecksum() != trailer.postApplyChecksum()) {
          throw PlannedFile.corrupt(inputs.getLast().file, "trailer checksum "
              + Checksum.format(trailer.postApplyChecksum()) + " differs from the listed "
              + Checksum.format(plan.expectedChecksum()));
        }
        if (checksum != trailer.postApplyChecksum()) {
          throw new IOException("restored database checksum " + Checksum.format(checksum) + " does not match "
              + "the expected " + Checksum.format(trailer.postApplyChecksum()) + " at TXID "
              + Txid.format(plan.targetTxid()) + ": the replica's files do not chain");
        }
        writer.finish(commit * pageSize);
        return checksum;
      }
    } finally {
      for (PlannedFile in : inputs) in.close();
    }
  }

  /** The lowest page number the files offer now (unsigned); 0 when all are exhausted. */
  private static int lowestPgno(List<PlannedFile> files) {
    int low = 0;
    for (PlannedFile f : files) {
      if (f.pgno != 0 && (low == 0 || Integer.compareUnsigned(f.pgno, low) < 0)) low = f.pgno;
    }
    return low;
  }

  /**
   * Opens a planned file for the merge. The snapshot, which holds most pages, gets larger buffers and is read on a
   * thread of its own (decrypting an age replica, copying from the page cache), so that the thread decoding it does
   * only the LZ4 blocks and the checksums.
   */
  private PlannedFile open(Source s, boolean base, RestoreProgress progress) throws IOException {
    InputStream raw = s.download() != null ? s.download().reader()
        : s.local() != null ? Files.newInputStream(s.local())
        : new ResumableInputStream(client, s.file().level(), s.file().range());
    InputStream counted = new FilterInputStream(raw) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) progress.add(n);
        return n;
      }
    };
    if (!base) return new PlannedFile(s.file(), new BufferedInputStream(counted, BUFFER), BATCH);
    return new PlannedFile(s.file(), new ReadAheadInputStream(counted, BASE_BUFFER / 2, 2,
        "restore-read-" + s.file().fileName()), BASE_BATCH);
  }

  /**
   * Bounds the files merged at once (open files, threads, memory): when a plan is longer (a replica whose
   * compaction has not run), consecutive files after the snapshot are first merged into temporary files.
   */
  private List<Source> premerge(List<Source> sources, Path dir) throws IOException {
    List<Source> out = sources;
    while (out.size() > MAX_MERGED) {
      List<Source> next = new ArrayList<>();
      next.add(out.getFirst());
      for (int from = 1; from < out.size(); from += MAX_MERGED - 1) {
        List<Source> group = out.subList(from, Math.min(out.size(), from + MAX_MERGED - 1));
        next.add(group.size() == 1 ? group.getFirst() : compactGroup(group, dir));
      }
      out = next;
    }
    return out;
  }

  private Source compactGroup(List<Source> group, Path dir) throws IOException {
    LtxFileMeta a = group.getFirst().file(), b = group.getLast().file();
    Path tmp = Files.createTempFile(dir, "premerge-", ".ltx");
    List<InputStream> streams = new ArrayList<>();
    for (Source s : group) {
      InputStream raw = s.download() != null ? s.download().reader()
          : s.local() != null ? Files.newInputStream(s.local())
          : new ResumableInputStream(client, s.file().level(), s.file().range());
      streams.add(new BufferedInputStream(raw, BUFFER));
    }
    try (OutputStream o = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), BUFFER)) {
      new LtxCompactor(0, true).compact(streams, o); // plan files may overlap; temporary, so uncompressed
    } catch (IOException e) {
      throw new IOException("merging replica files " + a.path() + " .. " + b.path() + ": "
          + e.getMessage(), e);
    }
    LtxFileMeta merged = new LtxFileMeta(a.level(), new dev.strata.ltx.TxidRange(a.minTxid(), b.maxTxid()),
        Files.size(tmp), a.createdAt(), a.pageSize(), b.commit(), b.timestamp(), a.preApplyChecksum(),
        b.postApplyChecksum());
    return new Source(merged, tmp, null);
  }

  /** Removes download directories left by a restore of the same file that was killed. */
  private static void deleteStaleDownloads(Path dir, String name) throws IOException {
    String prefix = "." + name + ".restore-";
    try (var entries = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
      for (Path p : entries) deleteQuietly(p);
    } catch (java.nio.file.NoSuchFileException e) {
      // the directory is created later
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      DirectoryTree.delete(dir);
    } catch (IOException ignored) {
      // temporary downloads; nothing depends on their removal
    }
  }
}
