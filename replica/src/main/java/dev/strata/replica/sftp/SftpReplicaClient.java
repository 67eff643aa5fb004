package dev.strata.replica.sftp;

import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.SftpClient.CloseableHandle;
import org.apache.sshd.sftp.client.SftpClient.CopyMode;
import org.apache.sshd.sftp.client.SftpClient.DirEntry;
import org.apache.sshd.sftp.client.SftpClient.OpenMode;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHFsyncExtension;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHPosixRenameExtension;
import org.apache.sshd.sftp.client.impl.AbstractSftpClient;
import org.apache.sshd.sftp.client.impl.SftpInputStreamAsync;
import org.apache.sshd.sftp.client.impl.SftpOutputStreamAsync;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

/**
 * A replica on an SFTP server (Apache MINA SSHD client), files {@code <path>/<level>/<min>-<max>.ltx}.
 *
 * <p>A write goes to a hidden temporary name in the same directory, is fsynced where the server offers
 * {@code fsync@openssh.com}, then renamed over the final name with {@code posix-rename@openssh.com} (or, on servers
 * without it, by removing the old file and renaming), so the final name never shows a partial file. A listing
 * reads each file's 100-byte header and 16-byte trailer, many requests in flight at once on the one channel.
 * The server's host key is always verified ({@link HostKeyCheck}); a dropped session is reopened and the failed
 * operation repeated once.
 */
public final class SftpReplicaClient implements ReplicaClient {
  /** Requests in flight at once for listings and batch deletes. */
  private static final int PARALLEL = 16;
  /** Bytes asked per read request; the stream keeps several requests in flight. */
  private static final int READ_BUFFER = 64 * 1024;
  /** 0: the stream sizes each write so that it fits one SSH packet. */
  private static final int WRITE_BUFFER = 0;

  private final SftpConnection conn;
  private final String root;
  private final boolean owner;

  /** A client for {@code config}; reads the key and host key files now, connects on first use. */
  public SftpReplicaClient(SftpConfig config) {
    this(new SftpConnection(config), config.path(), true);
  }

  private SftpReplicaClient(SftpConnection conn, String root, boolean owner) {
    this.conn = conn;
    this.root = root;
    this.owner = owner;
  }

  @Override
  public String type() {
    return "sftp";
  }

  @Override
  public String location() {
    SftpConfig c = conn.config();
    String host = c.host().contains(":") ? "[" + c.host() + "]" : c.host();
    return "sftp://" + c.user() + "@" + host + (c.port() == 22 ? "" : ":" + c.port()) + root;
  }

  /** Sessions opened so far by this client and its children (reconnections included). */
  public int connects() {
    return conn.connects();
  }

  private String join(String dir, String name) {
    return dir.equals("/") ? "/" + name : dir + "/" + name;
  }

  private String levelDir(int level) {
    return join(root, Integer.toString(ReplicaClient.checkLevel(level)));
  }

  private String path(int level, TxidRange range) {
    return join(levelDir(level), range.fileName());
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    return listFilesAfter(level, 0);
  }

  @Override
  public List<LtxFileMeta> listFilesAfter(int level, long afterTxid) throws IOException {
    String dir = levelDir(level);
    List<DirEntry> entries = conn.call(sftp -> readDir(sftp, dir));
    List<Callable<LtxFileMeta>> reads = new ArrayList<>();
    for (DirEntry e : entries) {
      TxidRange range = LtxFileName.parse(e.getFilename());
      if (range == null || !e.getAttributes().isRegularFile()) continue;
      if (Long.compareUnsigned(range.min(), afterTxid) <= 0) continue;
      String p = join(dir, e.getFilename());
      long size = e.getAttributes().getSize();
      Instant created = modified(e.getAttributes());
      reads.add(() -> conn.call(sftp -> describe(sftp, level, range, p, size, created)));
    }
    List<LtxFileMeta> files = new ArrayList<>(parallel(reads));
    files.removeIf(Objects::isNull);
    files.sort(Comparator.comparing(LtxFileMeta::range));
    return files;
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    String p = path(level, range);
    LtxFileMeta meta = conn.call(sftp -> {
      Attributes a;
      try {
        a = sftp.stat(p);
      } catch (SftpException e) {
        throw translate("stat", p, e);
      }
      return describe(sftp, level, range, p, a.getSize(), modified(a));
    });
    if (meta == null) throw new NoSuchFileException(where(p));
    return meta;
  }

  /** Reads header and trailer; a damaged file is described bare, a vanished one is null. */
  private LtxFileMeta describe(SftpClient sftp, int level, TxidRange range, String p, long size, Instant created)
      throws IOException {
    if (size < LtxHeader.SIZE + LtxTrailer.SIZE) return LtxFileMeta.bare(level, range, size, created);
    try (CloseableHandle h = sftp.open(p, OpenMode.Read)) {
      byte[] head = readAt(sftp, h, 0, LtxHeader.SIZE);
      byte[] tail = readAt(sftp, h, size - LtxTrailer.SIZE, LtxTrailer.SIZE);
      try {
        return LtxFileMeta.stored(level, range, LtxHeader.decode(head), LtxTrailer.decode(tail, 0), size,
            created);
      } catch (LtxException e) {
        return LtxFileMeta.bare(level, range, size, created);
      }
    } catch (SftpException e) {
      if (e.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE) return null;
      throw translate("read", p, e);
    }
  }

  private static byte[] readAt(SftpClient sftp, CloseableHandle h, long offset, int n) throws IOException {
    byte[] buf = new byte[n];
    int done = 0;
    while (done < n) {
      int r = sftp.read(h, offset + done, buf, done, n - done);
      if (r < 0) throw new EOFException("short read");
      done += r;
    }
    return buf;
  }

  private static Instant modified(Attributes a) {
    return a.getModifyTime() == null ? Instant.EPOCH : a.getModifyTime().toInstant();
  }

  /** The entries of a directory; a directory that does not exist has none. */
  private List<DirEntry> readDir(SftpClient sftp, String dir) throws IOException {
    List<DirEntry> entries = new ArrayList<>();
    try {
      // The iterable sends its requests while iterated, and wraps their failures in UncheckedIOException.
      try {
        for (DirEntry e : sftp.readDir(dir)) entries.add(e);
      } catch (UncheckedIOException u) {
        throw u.getCause();
      }
    } catch (SftpException e) {
      if (e.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE) return List.of();
      throw translate("list", dir, e);
    }
    return entries;
  }

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    if (offset < 0) throw new IllegalArgumentException("negative offset: " + offset);
    String p = path(level, range);
    return conn.call(sftp -> {
      try {
        long size = sftp.stat(p).getSize();
        if (offset >= size) return InputStream.nullInputStream();
        CloseableHandle h = sftp.open(p, OpenMode.Read);
        return new SftpInputStreamAsync((AbstractSftpClient) sftp, READ_BUFFER, offset, size, p, h, true);
      } catch (SftpException e) {
        throw translate("open", p, e);
      }
    });
  }

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    TxidRange range = new TxidRange(info.header().minTxid(), info.header().maxTxid());
    String dir = levelDir(level);
    String target = join(dir, range.fileName());
    String tmp = join(dir, "." + range.fileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current()
        .nextLong()));
    AtomicLong consumed = new AtomicLong();
    // Repeatable after a reconnect only while no byte of the data has been taken.
    conn.call(sftp -> {
      upload(sftp, dir, tmp, target, data, size, consumed);
      return null;
    }, () -> consumed.get() == 0);
    return LtxFileMeta.of(level, info, size, Instant.now().truncatedTo(ChronoUnit.MILLIS));
  }

  private void upload(SftpClient sftp, String dir, String tmp, String target, InputStream data, long size,
      AtomicLong consumed) throws IOException {
    CloseableHandle h = openForWrite(sftp, dir, tmp);
    boolean renamed = false;
    try {
      try (h) {
        OutputStream out = new SftpOutputStreamAsync((AbstractSftpClient) sftp, WRITE_BUFFER, tmp, h, false);
        copyExactly(data, out, size, target, consumed);
        out.close(); // waits for every write to be acknowledged
        OpenSSHFsyncExtension fsync = sftp.getExtension(OpenSSHFsyncExtension.class);
        if (fsync.isSupported()) fsync.fsync(h);
      }
      rename(sftp, tmp, target);
      renamed = true;
    } catch (SftpException e) {
      throw translate("write", target, e);
    } finally {
      if (!renamed) removeQuietly(sftp, tmp);
    }
  }

  /** Opens the temporary file, creating the directory on first use or when it has vanished since. */
  private CloseableHandle openForWrite(SftpClient sftp, String dir, String tmp) throws IOException {
    ensureDir(sftp, dir);
    try {
      return sftp.open(tmp, OpenMode.Write, OpenMode.Create, OpenMode.Exclusive);
    } catch (SftpException e) {
      if (e.getStatus() != SftpConstants.SSH_FX_NO_SUCH_FILE) throw translate("create", tmp, e);
      conn.knownDirs.remove(dir);
      ensureDir(sftp, dir);
      try {
        return sftp.open(tmp, OpenMode.Write, OpenMode.Create, OpenMode.Exclusive);
      } catch (SftpException again) {
        throw translate("create", tmp, again);
      }
    }
  }

  /** Creates {@code dir} and its parents if missing. */
  private void ensureDir(SftpClient sftp, String dir) throws IOException {
    if (conn.knownDirs.contains(dir)) return;
    try {
      Attributes a = sftp.stat(dir);
      if (!a.isDirectory()) throw new IOException("sftp replica: " + where(dir) + " is not a directory");
    } catch (SftpException e) {
      if (e.getStatus() != SftpConstants.SSH_FX_NO_SUCH_FILE) throw translate("stat", dir, e);
      int slash = dir.lastIndexOf('/');
      if (slash > 0) ensureDir(sftp, dir.substring(0, slash));
      try {
        sftp.mkdir(dir);
      } catch (SftpException m) {
        // Another writer may have created it meanwhile.
        try {
          if (!sftp.stat(dir).isDirectory()) throw translate("mkdir", dir, m);
        } catch (SftpException gone) {
          throw translate("mkdir", dir, m);
        }
      }
    }
    conn.knownDirs.add(dir);
  }

  /** Replaces {@code target} by {@code tmp} as atomically as the server allows. */
  private void rename(SftpClient sftp, String tmp, String target) throws IOException {
    OpenSSHPosixRenameExtension posix = sftp.getExtension(OpenSSHPosixRenameExtension.class);
    if (posix.isSupported()) {
      posix.posixRename(tmp, target);
    } else if (sftp.getVersion() >= 5) {
      sftp.rename(tmp, target, CopyMode.Overwrite);
    } else {
      // SFTP v3 rename refuses an existing target: readers briefly see no file, never a partial one.
      try {
        sftp.remove(target);
      } catch (SftpException e) {
        if (e.getStatus() != SftpConstants.SSH_FX_NO_SUCH_FILE) throw e;
      }
      sftp.rename(tmp, target);
    }
  }

  private static void removeQuietly(SftpClient sftp, String p) {
    try {
      if (sftp.isOpen()) sftp.remove(p);
    } catch (IOException ignored) {
      // a leftover temporary name is invisible to listings
    }
  }

  private void copyExactly(InputStream in, OutputStream out, long size, String target, AtomicLong consumed)
      throws IOException {
    byte[] buf = new byte[64 * 1024];
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new IOException("sftp replica " + where(target) + ": data ended after " + (size - left) + " of "
            + size + " bytes");
      }
      consumed.addAndGet(n);
      out.write(buf, 0, n);
      left -= n;
    }
    if (in.read() >= 0) throw new IOException("sftp replica " + where(target) + ": data longer than " + size + " bytes");
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    List<Callable<Void>> removes = new ArrayList<>();
    for (TxidRange r : ranges) {
      String p = path(level, r);
      removes.add(() -> conn.call(sftp -> {
        try {
          sftp.remove(p);
        } catch (SftpException e) {
          if (e.getStatus() != SftpConstants.SSH_FX_NO_SUCH_FILE) throw translate("remove", p, e);
        }
        return null;
      }));
    }
    parallel(removes);
  }

  @Override
  public List<String> listChildren() throws IOException {
    List<String> names = new ArrayList<>();
    for (DirEntry e : conn.call(sftp -> readDir(sftp, root))) {
      if (e.getAttributes().isDirectory() && ReplicaClient.isChildName(e.getFilename())) names.add(e.getFilename());
    }
    names.sort(null);
    return names;
  }

  @Override
  public List<StoredObject> listObjects() throws IOException {
    List<StoredObject> out = new ArrayList<>();
    for (DirEntry e : conn.call(sftp -> readDir(sftp, root))) {
      if (e.getAttributes().isRegularFile() && ReplicaClient.isChildName(e.getFilename())) {
        out.add(new StoredObject(e.getFilename(), e.getAttributes().getSize(), modified(e.getAttributes())));
      }
    }
    out.sort(Comparator.comparing(StoredObject::name));
    return out;
  }

  @Override
  public InputStream openObject(String name, long offset) throws IOException {
    if (offset < 0) throw new IllegalArgumentException("negative offset: " + offset);
    String p = join(root, ReplicaClient.checkChildName(name));
    return conn.call(sftp -> {
      try {
        long size = sftp.stat(p).getSize();
        if (offset >= size) return InputStream.nullInputStream();
        CloseableHandle h = sftp.open(p, OpenMode.Read);
        return new SftpInputStreamAsync((AbstractSftpClient) sftp, READ_BUFFER, offset, size, p, h, true);
      } catch (SftpException e) {
        throw translate("open", p, e);
      }
    });
  }

  @Override
  public ReplicaClient child(String name) {
    return new SftpReplicaClient(conn, join(root, ReplicaClient.checkChildName(name)), false);
  }

  @Override
  public void close() {
    if (owner) conn.close();
  }

  private String where(String p) {
    SftpConfig c = conn.config();
    return "sftp://" + c.user() + "@" + c.host() + ":" + c.port() + p;
  }

  /** A one-line error for a status the server answered. */
  private IOException translate(String op, String p, SftpException e) {
    return switch (e.getStatus()) {
      case SftpConstants.SSH_FX_NO_SUCH_FILE -> {
        var missing = new NoSuchFileException(where(p));
        missing.initCause(e);
        yield missing;
      }
      case SftpConstants.SSH_FX_PERMISSION_DENIED -> new IOException("access denied to " + location() + " ("
          + op + " " + p + ")", e);
      default -> new IOException("sftp replica: " + op + " " + where(p) + " failed: "
          + SftpConstants.getStatusName(e.getStatus()) + " " + SftpConnection.rootMessage(e), e);
    };
  }

  /** Runs tasks with up to {@link #PARALLEL} in flight; the first failure is thrown. */
  private static <T> List<T> parallel(List<Callable<T>> tasks) throws IOException {
    if (tasks.isEmpty()) return List.of();
    Semaphore slots = new Semaphore(PARALLEL);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<T>> futures = new ArrayList<>(tasks.size());
      for (Callable<T> task : tasks) {
        futures.add(pool.submit(() -> {
          slots.acquire();
          try {
            return task.call();
          } finally {
            slots.release();
          }
        }));
      }
      List<T> results = new ArrayList<>(tasks.size());
      for (Future<T> f : futures) results.add(f.get());
      return results;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) throw io;
      if (e.getCause() instanceof RuntimeException re) throw re;
      throw new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted");
    }
  }
}
