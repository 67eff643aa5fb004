package dev.strata.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code server.lock} in the data directory, held while a server runs: a second {@code strata serve} on the same
 * directory is refused instead of sharing (and wiping) its staging and embedded metadata. The operating system
 * drops the lock when the process dies, however it dies.
 */
final class DataDirLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  static DataDirLock take(Path dataDir) throws IOException {
    Path file = dataDir.resolve("server.lock");
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      lock = null; // held by another server in this same process
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      String holder = new String(java.nio.file.Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
      ch.close();
      throw new IOException("data directory " + dataDir + " is in use by another strata serve"
          + (holder.isEmpty() ? "" : " (pid " + holder + ")")
          + "; each instance needs its own --data (instances share PostgreSQL via --metadata)");
    }
    ch.truncate(0);
    ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
    return new DataDirLock(ch, lock);
  }

  @Override
  public void close() throws IOException {
    if (lock.isValid()) lock.release();
    channel.close();
  }
}
