package dev.strata.agent.capture;

import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.TxidRange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LTX files of one database that are not yet on every replica: {@code <dir>/<level>/<min>-<max>.ltx}, written
 * atomically (temp file, fsync, rename, directory fsync). Keeping them locally lets the WAL be checkpointed while
 * a replica is down; uploaders take them in TXID order and the store deletes a file once every replica has it.
 *
 * <p>Uploaders wait on the store; {@link #add} wakes them.
 */
public final class LocalStore {
  private static final Logger log = LoggerFactory.getLogger(LocalStore.class);
  private static final Comparator<LocalFile> ORDER =
      Comparator.comparing((LocalFile f) -> f.maxTxid(), Long::compareUnsigned).thenComparingInt(LocalFile::level);

  private final Path dir;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final List<LocalFile> files = new ArrayList<>();
  private long version;

  private LocalStore(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens the store in {@code dir}, removing temp files left by a crash and files that fail verification (an
   * uploader treats the gap like any other and asks for a snapshot).
   */
  public static LocalStore open(Path dir) throws IOException {
    LocalStore store = new LocalStore(dir);
    Files.createDirectories(dir);
    try (DirectoryStream<Path> levels = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path levelDir : levels) {
        int level;
        try {
          level = Integer.parseInt(levelDir.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(levelDir)) {
          for (Path p : entries) {
            String name = p.getFileName().toString();
            TxidRange range = LtxFileName.parse(name);
            if (range == null) {
              if (name.endsWith(".tmp")) Files.deleteIfExists(p);
              continue;
            }
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) { // never opened: a FIFO would block for good
              log.warn("local file {} is not a regular file; removing it", p);
              Files.deleteIfExists(p);
              continue;
            }
            try (InputStream in = Files.newInputStream(p)) {
              LtxFileInfo info = LtxDecoder.verify(in);
              store.files.add(new LocalFile(level, info, p, Files.size(p)));
            } catch (IOException e) {
              log.warn("local file {} is damaged ({}); removing it", p, e.getMessage());
              Files.deleteIfExists(p);
            }
          }
        }
      }
    }
    store.files.sort(ORDER);
    return store;
  }

  /** The directory holding the files. */
  public Path dir() {
    return dir;
  }

  /** Starts a new file at {@code level}; nothing is visible until {@link Writer#commit}. */
  public Writer create(int level) throws IOException {
    Path levelDir = dir.resolve(Integer.toString(level));
    if (!Files.isDirectory(levelDir)) {
      Files.createDirectories(levelDir);
      AtomicFiles.fsyncDirectory(dir);
    }
    Path tmp = levelDir.resolve("." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    return new Writer(level, tmp);
  }

  /** A file being written. Closing without committing deletes it. */
  public final class Writer implements AutoCloseable {
    private final int level;
    private final Path tmp;
    private final FileChannel ch;
    private final OutputStream out;
    private boolean done;

    private Writer(int level, Path tmp) throws IOException {
      this.level = level;
      this.tmp = tmp;
      this.ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      this.out = Channels.newOutputStream(ch);
    }

    /** Where to write the file's bytes. */
    public OutputStream stream() {
      return out;
    }

    /**
     * Makes the file durable under its final name. Uploaders see it only after {@link #publish}: capture
     * publishes a file once its state is recorded, so nothing reaches a replica that a crash could take back.
     */
    public LocalFile commit(LtxFileInfo info) throws IOException {
      ch.force(true);
      long size = ch.size();
      ch.close();
      TxidRange range = new TxidRange(info.header().minTxid(), info.header().maxTxid());
      Path target = tmp.resolveSibling(range.fileName());
      AtomicFiles.rename(tmp, target);
      done = true;
      return new LocalFile(level, info, target, size);
    }

    @Override
    public void close() throws IOException {
      if (done) return;
      done = true;
      ch.close();
      Files.deleteIfExists(tmp);
    }
  }

  /** Offers a committed file to the uploaders and wakes them. */
  public void publish(LocalFile f) {
    lock.lock();
    try {
      files.removeIf(o -> o.level() == f.level() && o.range().equals(f.range()));
      files.add(f);
      files.sort(ORDER);
      version++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The files whose MaxTXID is above {@code txid}, in TXID order (a snapshot before an L0 file of equal MaxTXID). */
  public List<LocalFile> after(long txid) {
    lock.lock();
    try {
      List<LocalFile> out = new ArrayList<>();
      for (LocalFile f : files) if (Long.compareUnsigned(f.maxTxid(), txid) > 0) out.add(f);
      out.sort(Comparator.comparing((LocalFile f) -> f.maxTxid(), Long::compareUnsigned)
          .thenComparing(f -> -f.level()));
      return out;
    } finally {
      lock.unlock();
    }
  }

  /** Every file, in TXID order. */
  public List<LocalFile> files() {
    lock.lock();
    try {
      return List.copyOf(files);
    } finally {
      lock.unlock();
    }
  }

  /** Total bytes held. */
  public long bytes() {
    lock.lock();
    try {
      return files.stream().mapToLong(LocalFile::size).sum();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the files whose MaxTXID is at or below {@code txid} (every replica has them, or a newer snapshot
   * replaces them); returns those deleted.
   */
  public List<LocalFile> deleteThrough(long txid) throws IOException {
    return deleteIf(f -> Long.compareUnsigned(f.maxTxid(), txid) <= 0);
  }

  /** Deletes files above {@code txid}: written by a pass whose state was never recorded (a crash). */
  public void deleteAbove(long txid) throws IOException {
    deleteIf(f -> Long.compareUnsigned(f.maxTxid(), txid) > 0);
  }

  private List<LocalFile> deleteIf(java.util.function.Predicate<LocalFile> which) throws IOException {
    List<LocalFile> gone = new ArrayList<>();
    lock.lock();
    try {
      for (var it = files.iterator(); it.hasNext(); ) {
        LocalFile f = it.next();
        if (which.test(f)) {
          gone.add(f);
          it.remove();
        }
      }
      if (!gone.isEmpty()) version++;
    } finally {
      lock.unlock();
    }
    for (LocalFile f : gone) Files.deleteIfExists(f.path());
    return gone;
  }

  /** A counter that changes whenever files are added or removed. */
  public long version() {
    lock.lock();
    try {
      return version;
    } finally {
      lock.unlock();
    }
  }

  /** Wakes every waiting uploader (to stop it, or because a snapshot request was answered). */
  public void wakeAll() {
    lock.lock();
    try {
      version++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until {@link #version()} differs from {@code seen} or the timeout passes; returns the version. */
  public long awaitChange(long seen, long timeout, TimeUnit unit) throws InterruptedException {
    long nanos = unit.toNanos(timeout);
    lock.lock();
    try {
      while (version == seen && nanos > 0) nanos = changed.awaitNanos(nanos);
      return version;
    } finally {
      lock.unlock();
    }
  }
}
