package dev.strata.bench.torture;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The agent's meta directory ({@code .<db name>-strata/} next to the database) on a disk that can fill up.
 * Preferred: a small tmpfs mounted there, filled with a filler file until ENOSPC. When mounting is not permitted,
 * the fallback makes the directory unwritable with {@code chattr +i} (which binds root too); {@link #method()}
 * says which one ran.
 */
final class MetaDisk implements AutoCloseable {
  /** How the fault is injected. */
  enum Method { TMPFS_FULL, IMMUTABLE_DIR, NONE }

  private final Path dir;
  private final Path logDir;
  private final Method method;
  private final String why;
  private Path filler;
  private boolean immutable;

  private MetaDisk(Path dir, Path logDir, Method method, String why) {
    this.dir = dir;
    this.logDir = logDir;
    this.method = method;
    this.why = why;
  }

  /** Creates {@code dir} and mounts a tmpfs of {@code sizeBytes} there when possible. */
  static MetaDisk prepare(Path dir, Path logDir, long sizeBytes) throws IOException {
    Files.createDirectories(dir);
    String err = Mounts.run(logDir, "mount-tmpfs", "mount", "-t", "tmpfs", "-o", "size=" + sizeBytes, "tmpfs",
        dir.toString());
    if (err == null) return new MetaDisk(dir, logDir, Method.TMPFS_FULL, "tmpfs of " + (sizeBytes >> 20) + " MiB");
    String chattr = Mounts.run(logDir, "chattr-probe", "chattr", "-i", dir.toString());
    if (chattr == null) {
      return new MetaDisk(dir, logDir, Method.IMMUTABLE_DIR, "chattr +i (tmpfs mount refused: " + err + ")");
    }
    return new MetaDisk(dir, logDir, Method.NONE, "no way to fail the disk (" + err + "; " + chattr + ")");
  }

  /** Which injection runs, and why. */
  Method method() {
    return method;
  }

  /** One line for the report. */
  String description() {
    return why;
  }

  /** Fills the disk (or freezes the directory); returns what it did. */
  String fill() throws IOException {
    switch (method) {
      case TMPFS_FULL -> {
        filler = dir.resolve(".torture-filler");
        long written = 0;
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
          while (true) {
            out.write(chunk);
            written += chunk.length;
          }
        } catch (IOException full) {
          // ENOSPC: exactly what we want; the rest of the chunk may be buffered and lost, which is fine
        }
        return "tmpfs filled (" + (written >> 10) + " KiB filler)";
      }
      case IMMUTABLE_DIR -> {
        String err = Mounts.run(logDir, "chattr", "chattr", "+i", dir.toString());
        if (err != null) throw new IOException("chattr +i " + dir + ": " + err);
        immutable = true;
        return "chattr +i " + dir;
      }
      default -> {
        return "skipped: " + why;
      }
    }
  }

  /** Frees the disk again. */
  void release() throws IOException {
    if (filler != null) {
      Files.deleteIfExists(filler);
      filler = null;
    }
    if (immutable) {
      String err = Mounts.run(logDir, "chattr", "chattr", "-i", dir.toString());
      if (err != null) throw new IOException("chattr -i " + dir + ": " + err);
      immutable = false;
    }
  }

  /** Releases and unmounts (call once the agent is stopped). */
  @Override
  public void close() throws IOException {
    release();
    if (method == Method.TMPFS_FULL) Mounts.unmount(logDir, dir);
  }
}
