package dev.strata.replica.restore;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Starts the kernel's writeback of a range of a file without waiting for it: Linux's {@code sync_file_range} with
 * {@code SYNC_FILE_RANGE_WRITE}. A restore calls it behind its writes, so that its final fsync finds most pages
 * already on their way to the disk, without the stalls a periodic {@code fdatasync} causes (each one waits for
 * everything dirty, the newest pages too). It reports no errors by design: it neither waits nor consumes a
 * writeback error, so the final fsync still sees any.
 *
 * <p>Where the call does not exist (not Linux), {@link #open} gives nothing and the final fsync does all the work.
 *
 * <p>It opens a descriptor of its own, and closing any descriptor of a file drops every POSIX lock the process holds
 * on it: safe only because it is closed before the integrity check opens the file with SQLite.
 */
final class Writeback implements AutoCloseable {
  private static final int SYNC_FILE_RANGE_WRITE = 2;
  private static final int O_RDONLY = 0;
  private static final Calls CALLS = Calls.find();

  /** The C functions used, or null where one is missing. */
  private record Calls(MethodHandle open, MethodHandle syncFileRange, MethodHandle close) {
    static Calls find() {
      try {
        Linker linker = Linker.nativeLinker();
        var lookup = linker.defaultLookup();
        var open = lookup.find("open");
        var range = lookup.find("sync_file_range");
        var close = lookup.find("close");
        if (open.isEmpty() || range.isEmpty() || close.isEmpty()) return null;
        return new Calls(
            linker.downcallHandle(open.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2)),
            linker.downcallHandle(range.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)),
            linker.downcallHandle(close.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));
      } catch (RuntimeException | LinkageError e) { // no native access, or a platform without these calls
        return null;
      }
    }
  }

  private final int fd;

  private Writeback(int fd) {
    this.fd = fd;
  }

  /** A handle on {@code file} for starting writeback, or empty where this platform cannot. */
  static Optional<Writeback> open(Path file) {
    if (CALLS == null) return Optional.empty();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = arena.allocateFrom(file.toAbsolutePath().toString());
      int fd = (int) CALLS.open.invokeExact(name, O_RDONLY, 0);
      return fd < 0 ? Optional.empty() : Optional.of(new Writeback(fd));
    } catch (Throwable e) {
      return Optional.empty();
    }
  }

  /** Starts writing {@code length} bytes from {@code offset} back to the disk; returns without waiting. */
  void start(long offset, long length) {
    try {
      int ignored = (int) CALLS.syncFileRange.invokeExact(fd, offset, length, SYNC_FILE_RANGE_WRITE);
    } catch (Throwable e) {
      // only an early start is lost: the final fsync writes the range anyway
    }
  }

  @Override
  public void close() {
    try {
      int ignored = (int) CALLS.close.invokeExact(fd);
    } catch (Throwable e) {
      // a read-only descriptor: nothing to lose
    }
  }
}
