package dev.strata.cli;

import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file a command writes, with the rules of {@code strata restore} (the replica's RestoreExecutor): an existing
 * output is refused unless forced, and so are a SQLite database's {@code -wal}, {@code -shm} and {@code -journal},
 * which SQLite would replay onto the new file; the bytes go to {@code <out>.tmp}, which is fsynced and then renamed
 * into place, and the directory fsynced. A symbolic link at the output path is never followed: it counts as an
 * existing file, and a forced write replaces the link, not what it points to.
 */
final class OutputFile implements AutoCloseable {
  private static final String[] SQLITE_SIDE_FILES = {"-wal", "-shm", "-journal"};

  private final Path path;
  private final Path temporary;
  private final boolean force;
  private final String[] sideFiles;
  private final FileChannel channel;
  private boolean placed;

  private OutputFile(Path path, Path temporary, boolean force, String[] sideFiles, FileChannel channel) {
    this.path = path;
    this.temporary = temporary;
    this.force = force;
    this.sideFiles = sideFiles;
    this.channel = channel;
  }

  /**
   * Checks that {@code output} may be written and creates {@code <output>.tmp} (a leftover from a killed run is
   * removed first; a link there is removed, not followed). {@code sqlite}: the output is a database, whose side
   * files count too.
   */
  static OutputFile create(Path output, boolean force, boolean sqlite) throws IOException {
    Path out = output.toAbsolutePath().normalize();
    String[] sideFiles = sqlite ? SQLITE_SIDE_FILES : new String[0];
    if (!force) {
      refuseExisting(out);
      for (String suffix : sideFiles) refuseExisting(sibling(out, suffix));
    }
    Path tmp = sibling(out, ".tmp");
    Files.deleteIfExists(tmp);
    FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    return new OutputFile(out, tmp, force, sideFiles, ch);
  }

  /** The path written to, absolute. */
  Path path() {
    return path;
  }

  /** Where the bytes are until {@link #place()}: to read them back for a check. */
  Path temporary() {
    return temporary;
  }

  /** The stream to write the content to; closing it is not needed. */
  OutputStream stream() {
    return Channels.newOutputStream(channel);
  }

  /**
   * Fsyncs the content and renames it into place. Unforced, a hard link claims the name, which fails if anything
   * took it meanwhile (a check and a rename where links are unsupported); forced, the old side files go first.
   */
  void place() throws IOException {
    channel.force(true);
    channel.close();
    if (force) {
      for (String suffix : sideFiles) Files.deleteIfExists(sibling(path, suffix));
      Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } else {
      try {
        Files.createLink(path, temporary);
        Files.delete(temporary);
      } catch (FileAlreadyExistsException e) {
        throw appeared();
      } catch (UnsupportedOperationException | FileSystemException e) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) throw appeared();
        Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    placed = true;
    FileReplicaClient.fsyncDirectory(path.getParent());
  }

  /** Removes the temporary file unless it was placed. */
  @Override
  public void close() throws IOException {
    channel.close();
    if (!placed) Files.deleteIfExists(temporary);
  }

  private static void refuseExisting(Path p) throws IOException {
    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("output file already exists: " + p + " (use --force to replace it)");
    }
  }

  private IOException appeared() {
    return new IOException("output file already exists: " + path + " (it appeared while it was being written)");
  }

  private static Path sibling(Path p, String suffix) {
    return p.resolveSibling(p.getFileName() + suffix);
  }
}
