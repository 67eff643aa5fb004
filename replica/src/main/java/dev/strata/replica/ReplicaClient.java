package dev.strata.replica;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import java.io.IOException;
import java.io.InputStream;
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

  /** The files of one level in TXID order, with whatever header fields the backend stores. */
  List<LtxFileMeta> listFiles(int level) throws IOException;

  /**
   * Opens a file for reading from {@code offset} (to resume a broken download). Throws
   * {@link java.nio.file.NoSuchFileException} when it does not exist.
   */
  InputStream openFile(int level, TxidRange range, long offset) throws IOException;

  /**
   * Stores a complete LTX file atomically under {@code <level>/<range>.ltx}, replacing any file of that name.
   * {@code info} is the file's verified header and trailer (stored as metadata where the backend can);
   * {@code size} is the exact number of bytes {@code data} yields.
   */
  LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException;

  /** Deletes files of one level; absent files are ignored. Batched where the backend allows. */
  void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException;

  /** Names of the directories directly under this root (clusters under a server root, databases under a cluster). */
  List<String> listChildren() throws IOException;

  /**
   * A client for the sub-root {@code name} (one path segment of {@code [0-9A-Za-z_.-]}, not starting with a dot),
   * sharing this client's connection.
   */
  ReplicaClient child(String name);

  /** Releases connections; children share them, so close only the root client. */
  @Override
  void close() throws IOException;

  /** Checks a child name: one safe path segment. */
  static String checkChildName(String name) {
    if (name == null || name.isEmpty() || name.length() > 256 || name.startsWith(".")
        || !name.matches("[0-9A-Za-z_.-]+")) {
      throw new IllegalArgumentException("invalid name in replica path: \"" + name + "\"");
    }
    return name;
  }

  /** Checks a level number. */
  static int checkLevel(int level) {
    if (level < 0 || level > MAX_LEVEL) throw new IllegalArgumentException("invalid level: " + level);
    return level;
  }
}
