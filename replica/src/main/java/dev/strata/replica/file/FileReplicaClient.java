package dev.strata.replica.file;

import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.FileChannelInputStream;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A replica in a local directory. Writes go to a temporary name, are fsynced, renamed into place and the directory
 * fsynced, so a crash at any instruction leaves either the old state or the complete new file.
 *
 * <p>Below its root, a replica holds only what Strata writes there: directories and regular files. Anything else
 * in their place is refused with an error naming it, never opened: a FIFO would block a read forever, a device
 * would never end it, and a symbolic link would have the replica read, write or delete outside itself. The root
 * itself may be a symbolic link (to another disk, say). A FIFO swapped in between the check and the open could
 * still block; whoever can do that can also write any data there.
 */
public final class FileReplicaClient implements ReplicaClient {
  private final Path root;

  public FileReplicaClient(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The root directory. */
  public Path root() {
    return root;
  }

  @Override
  public String type() {
    return "file";
  }

  @Override
  public boolean readsInPlace() {
    return true;
  }

  @Override
  public String location() {
    // Path.toUri() adds a slash when the directory exists: keep the location stable.
    String uri = root.toUri().toString();
    return uri.endsWith("/") && root.getParent() != null ? uri.substring(0, uri.length() - 1) : uri;
  }

  /** A level's directory, which may not exist yet; if it exists it is a real directory. */
  private Path levelDir(int level) throws IOException {
    Path dir = root.resolve(Integer.toString(ReplicaClient.checkLevel(level)));
    isStrataEntry(dir, true);
    return dir;
  }

  private Path path(int level, TxidRange range) throws IOException {
    return levelDir(level).resolve(range.fileName());
  }

  /**
   * Whether {@code p} exists. If it does, it must be what Strata puts there, a directory or a regular file, and not
   * a symbolic link: anything else is an error naming it (see the class comment).
   */
  private boolean isStrataEntry(Path p, boolean directory) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return false;
    }
    if (directory ? a.isDirectory() : a.isRegularFile()) return true;
    throw new IOException("file replica " + root + ": " + root.relativize(p) + " is " + kind(p, a) + ", not a "
        + (directory ? "directory" : "regular file") + "; only strata's own files belong in a replica");
  }

  /** What an entry is, in words, for errors. */
  private static String kind(Path p, BasicFileAttributes a) {
    if (a.isSymbolicLink()) return "a symbolic link";
    if (a.isDirectory()) return "a directory";
    if (a.isRegularFile()) return "a regular file";
    try {
      int type = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000; // S_IFMT
      return switch (type) {
        case 0010000 -> "a FIFO";
        case 0140000 -> "a socket";
        case 0020000, 0060000 -> "a device";
        default -> "a special file";
      };
    } catch (IOException | RuntimeException e) { // no unix attribute view
      return "a special file";
    }
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    return listFilesAfter(level, 0);
  }

  @Override
  public List<LtxFileMeta> listFilesAfter(int level, long afterTxid) throws IOException {
    Path dir = levelDir(level);
    List<LtxFileMeta> files = new ArrayList<>();
    if (!Files.isDirectory(dir)) return files;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.ltx")) {
      for (Path p : entries) {
        TxidRange range = LtxFileName.parse(p.getFileName().toString());
        if (range == null || Long.compareUnsigned(range.min(), afterTxid) <= 0) continue;
        LtxFileMeta meta = describe(level, range, p);
        if (meta != null) files.add(meta);
      }
    } catch (NoSuchFileException e) {
      return files;
    }
    files.sort(Comparator.comparing(LtxFileMeta::range));
    return files;
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    Path p = path(level, range);
    LtxFileMeta meta = describe(level, range, p);
    if (meta == null) throw new NoSuchFileException(p.toString());
    return meta;
  }

  /**
   * Reads the header and trailer of a stored file; a file too damaged to read is described bare, a file that
   * vanished (deleted while listing) is null.
   */
  private LtxFileMeta describe(int level, TxidRange range, Path p) throws IOException {
    if (!isStrataEntry(p, false)) return null;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      long size = ch.size();
      Instant created = Files.getLastModifiedTime(p).toInstant();
      if (size < LtxHeader.SIZE + LtxTrailer.SIZE) return LtxFileMeta.bare(level, range, size, created);
      byte[] head = readFully(ch, 0, LtxHeader.SIZE);
      byte[] tail = readFully(ch, size - LtxTrailer.SIZE, LtxTrailer.SIZE);
      try {
        LtxHeader h = LtxHeader.decode(head);
        LtxTrailer t = LtxTrailer.decode(tail, 0);
        return LtxFileMeta.stored(level, range, h, t, size, created);
      } catch (LtxException e) {
        return LtxFileMeta.bare(level, range, size, created);
      }
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Reads {@code n} bytes at {@code position}; a positional read may return fewer bytes than asked. */
  private static byte[] readFully(FileChannel ch, long position, int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) throw new EOFException("file replica: short read");
    }
    return buf.array();
  }

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    Path p = path(level, range);
    if (!isStrataEntry(p, false)) throw new NoSuchFileException(p.toString());
    FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    ch.position(offset);
    return new FileChannelInputStream(ch);
  }

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    TxidRange range = new TxidRange(info.header().minTxid(), info.header().maxTxid());
    Path dir = levelDir(level);
    createDirectories(dir);
    Path target = dir.resolve(range.fileName());
    Path tmp = dir.resolve("." + range.fileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        copyExactly(data, Channels.newOutputStream(ch), size, target);
        ch.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("file replica " + dir + ": atomic rename not supported", e);
      }
      fsyncDirectory(dir);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return LtxFileMeta.of(level, info, size, Files.getLastModifiedTime(target).toInstant());
  }

  /** Copies exactly {@code size} bytes and checks that the source ends there. */
  private static void copyExactly(InputStream in, OutputStream out, long size, Path target) throws IOException {
    byte[] buf = new byte[64 * 1024];
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new IOException("file replica " + target + ": data ended after " + (size - left) + " of " + size
            + " bytes");
      }
      out.write(buf, 0, n);
      left -= n;
    }
    if (in.read() >= 0) throw new IOException("file replica " + target + ": data longer than " + size + " bytes");
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    if (ranges.isEmpty()) return;
    Path dir = levelDir(level);
    for (TxidRange r : ranges) Files.deleteIfExists(dir.resolve(r.fileName()));
    fsyncDirectory(dir);
  }

  @Override
  public List<String> listChildren() throws IOException {
    List<String> names = new ArrayList<>();
    if (!Files.isDirectory(root)) return names;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (!name.startsWith(".")) names.add(name);
      }
    }
    names.sort(null);
    return names;
  }

  @Override
  public List<StoredObject> listObjects() throws IOException {
    List<StoredObject> out = new ArrayList<>();
    if (!Files.isDirectory(root)) return out;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (name.startsWith(".")) continue;
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isRegularFile()) out.add(new StoredObject(name, a.size(), a.lastModifiedTime().toInstant()));
      }
    } catch (NoSuchFileException e) {
      return out;
    }
    out.sort(Comparator.comparing(StoredObject::name));
    return out;
  }

  @Override
  public InputStream openObject(String name, long offset) throws IOException {
    Path p = root.resolve(ReplicaClient.checkChildName(name));
    if (!isStrataEntry(p, false)) throw new NoSuchFileException(p.toString());
    FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    ch.position(offset);
    return new FileChannelInputStream(ch);
  }

  @Override
  public ReplicaClient child(String name) {
    return new FileReplicaClient(root.resolve(ReplicaClient.checkChildName(name)));
  }

  @Override
  public void close() {}

  /** Creates missing directories and makes each creation durable in its parent. */
  private static void createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) return;
    Path parent = dir.getParent();
    if (parent != null) createDirectories(parent);
    try {
      Files.createDirectory(dir);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      return;
    }
    if (parent != null) fsyncDirectory(parent);
  }

  /** Makes renames, creations and deletions in {@code dir} durable. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (NoSuchFileException e) {
      // nothing to make durable
    }
  }
}
