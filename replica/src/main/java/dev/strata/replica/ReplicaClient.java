package dev.strata.replica;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.age.AgeFileException;
import dev.strata.replica.age.AgeKeyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One replica root on some storage backend, holding {@code <level>/<min hex16>-<max hex16>.ltx} files (levels 0–9).
 * Every part of Strata reads and writes LTX files only through this interface.
 *
 * <p>Promises every backend keeps: a file is never visible under its final name before it is complete (invariant
 * 5); no request is sent while nothing is asked (invariant 4); errors are {@link IOException}s whose message is one
 * line naming the backend, the path and what failed.
 */
public interface ReplicaClient extends AutoCloseable {
  /** Highest level number; level 9 holds snapshots. */
  int MAX_LEVEL = 9;

  /** The backend: {@code file}, {@code s3} or {@code sftp}. */
  String type();

  /** Where this root is, for logs and errors: a URL without secrets. */
  String location();

  /**
   * True when files are read in place as cheaply as from a local disk (a directory replica), so that a restore
   * merges them where they lie instead of downloading them first.
   */
  default boolean readsInPlace() {
    return false;
  }

  /**
   * The files of one level in TXID order. File and SFTP listings carry the header fields (read from each file's
   * header and trailer); an S3 listing is one LIST request per 1000 files and carries only name, size and time
   * ({@link LtxFileMeta#hasHeader()} is false): use {@link #head} for the fields of the files that need them.
   * A level that does not exist lists empty.
   */
  List<LtxFileMeta> listFiles(int level) throws IOException;

  /**
   * The files of one level whose MinTXID is above {@code afterTxid}, in TXID order, described as {@link #listFiles}
   * describes them. What a follower polls: backends override it so that a poll when nothing changed costs one
   * small request (S3: one LIST with start-after; file and SFTP: one directory read, headers read only for the
   * files returned).
   */
  default List<LtxFileMeta> listFilesAfter(int level, long afterTxid) throws IOException {
    List<LtxFileMeta> all = listFiles(level);
    return all.stream().filter(f -> Long.compareUnsigned(f.minTxid(), afterTxid) > 0).toList();
  }

  /**
   * The files of every level, level by level, each in TXID order: the same files, described the same way, as
   * {@link #listFiles} of levels 0 to 9, listed in that order so that a file a compaction moves to a higher level
   * meanwhile is still seen at least once. What a catalogue ({@link ReplicaFiles#list}) is built from. By default one listing per level; backends
   * that can list the whole root in one request sequence override it (S3: one LIST per 1000 files).
   */
  default List<LtxFileMeta> listAllFiles() throws IOException {
    List<LtxFileMeta> all = new ArrayList<>();
    for (int level = 0; level <= MAX_LEVEL; level++) all.addAll(listFiles(level));
    return all;
  }

  /**
   * {@link #listAllFiles} without the reads it makes per file beyond the listing itself: entries may then come bare
   * (size 0 when unknown), and {@link #describeListed} gives the ones a caller uses what {@code listAllFiles} would
   * have given. A restore plans from names and describes only the files of its plan. By default the same listing:
   * only a backend that reads each file to list it (an encrypted replica: a read and a key unwrap per file) differs.
   */
  default List<LtxFileMeta> listAllNames() throws IOException {
    return listAllFiles();
  }

  /** Entries of {@link #listAllNames}, in the order given, described as {@link #listAllFiles} describes them. */
  default List<LtxFileMeta> describeListed(List<LtxFileMeta> files) throws IOException {
    return files;
  }

  /**
   * The metadata of one file with its header fields, in one cheap request (S3 HEAD, a header and trailer read
   * elsewhere). Throws {@link java.nio.file.NoSuchFileException} when it does not exist. A file whose metadata is
   * missing or unreadable is returned bare.
   */
  LtxFileMeta head(int level, TxidRange range) throws IOException;

  /**
   * Opens a file for reading from {@code offset} (to resume a broken download); an offset at or past the end gives
   * an empty stream. Throws {@link java.nio.file.NoSuchFileException} when the file does not exist. A connection
   * lost mid-stream surfaces as an {@link IOException} from {@code read}: open again at the offset reached.
   */
  InputStream openFile(int level, TxidRange range, long offset) throws IOException;

  /**
   * Stores a complete LTX file atomically under {@code <level>/<range>.ltx}, replacing any file of that name.
   * {@code info} is the file's verified header and trailer (stored as metadata where the backend can);
   * {@code size} is the exact number of bytes {@code data} yields: a stream that ends early or runs on is refused
   * and nothing is stored. Memory use does not grow with the file (S3 holds one part, at most 16 MiB by default).
   * Returns the file's metadata; its creation time is the local clock where reading it back would cost a request.
   */
  LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException;

  /** Deletes files of one level; absent files are ignored. Batched where the backend allows (S3: 1000 a request). */
  void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException;

  /** Names of the directories directly under this root (clusters under a server root, databases under a cluster). */
  List<String> listChildren() throws IOException;

  /**
   * A client for the sub-root {@code name} (one path segment of {@code [0-9A-Za-z_.-]}, not starting with a dot),
   * sharing this client's connection.
   */
  ReplicaClient child(String name);

  /**
   * A plain file (object) directly under this root, whatever its name: what another tool's layout holds (Litestream
   * 0.3's snapshots and WAL segments).
   *
   * @param modified the storage's modification time (S3 LastModified, the file's or SFTP mtime)
   */
  record StoredObject(String name, long size, Instant modified) {}

  /**
   * The plain files directly under this root (not directories), sorted by name; a root that does not exist lists
   * empty. Only for reading layouts Strata did not write; backends that cannot list throw
   * {@link UnsupportedOperationException}.
   */
  default List<StoredObject> listObjects() throws IOException {
    throw new UnsupportedOperationException(type() + " replica " + location() + " cannot list plain files");
  }

  /**
   * Opens the plain file {@code name} directly under this root from {@code offset}; throws
   * {@link java.nio.file.NoSuchFileException} when it does not exist.
   */
  default InputStream openObject(String name, long offset) throws IOException {
    throw new UnsupportedOperationException(type() + " replica " + location() + " cannot read plain files");
  }

  /** Releases connections; children share them, so close only the root client. */
  @Override
  void close() throws IOException;

  /** Checks a child name: one safe path segment. */
  static String checkChildName(String name) {
    if (!isChildName(name)) throw new IllegalArgumentException("invalid name in replica path: \"" + name + "\"");
    return name;
  }

  /** True for a safe child name: one path segment of {@code [0-9A-Za-z_.-]}, not starting with a dot. */
  static boolean isChildName(String name) {
    return name != null && !name.isEmpty() && name.length() <= 256 && !name.startsWith(".")
        && name.matches("[0-9A-Za-z_.-]+");
  }

  /** Checks a level number. */
  static int checkLevel(int level) {
    if (level < 0 || level > MAX_LEVEL) throw new IllegalArgumentException("invalid level: " + level);
    return level;
  }

  /**
   * False for a failure that asking again repeats: a missing file, an age identity that does not open it, a file
   * that fails age's authentication. Anything else (a reset connection, a 5xx after the client's retries) may pass.
   */
  static boolean isTransient(IOException e) {
    return !(e instanceof NoSuchFileException || e instanceof AgeKeyException || e instanceof AgeFileException);
  }
}
