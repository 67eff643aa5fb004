package dev.strata.replica.restore;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Starts the kernel's writeback of ranges of a file just written, without waiting for it: Linux
 * {@code sync_file_range(SYNC_FILE_RANGE_WRITE)} through the FFM API, on a descriptor of its own (writeback is per
 * file, not per descriptor). The disk then writes while the restore goes on decoding, and the final fsync has
 * little left to do. It never waits and never consumes a write error: the final fsync still reports any. Where the
 * call is missing (not Linux, no native access) it does nothing, and the final fsync does all the writing.
 */
final class EarlyWriteback implements AutoCloseable {
  private static final int O_WRONLY = 1;
  private static final int SYNC_FILE_RANGE_WRITE = 2;
  private static final Calls CALLS = Calls.find();

  /** The libc functions used, or null when they cannot be called here. */
  private record Calls(MethodHandle open, MethodHandle syncFileRange, MethodHandle close) {
    static Calls find() {
      if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) return null;
      try {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        return new Calls(
            linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)),
            linker.downcallHandle(libc.find("sync_file_range").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT)),
            linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT)));
      } catch (RuntimeException | LinkageError e) { // no such symbol, or native access denied
        return null;
      }
    }
  }

  private int fd; // -1: nothing to do

  private EarlyWriteback(int fd) {
    this.fd = fd;
  }

  /** Opens {@code file} for writeback hints; never fails (it then does nothing). */
  static EarlyWriteback open(Path file) {
    if (CALLS == null) return new EarlyWriteback(-1);
    try (Arena arena = Arena.ofConfined()) {
      return new EarlyWriteback((int) CALLS.open.invokeExact(arena.allocateFrom(file.toString()), O_WRONLY));
    } catch (Throwable e) {
      return new EarlyWriteback(-1);
    }
  }

  /** Starts writing {@code length} bytes from {@code offset} to disk; returns at once. */
  void start(long offset, long length) {
    if (fd < 0) return;
    try {
      if ((int) CALLS.syncFileRange.invokeExact(fd, offset, length, SYNC_FILE_RANGE_WRITE) != 0) close();
    } catch (Throwable e) {
      close();
    }
  }

  @Override
  public void close() {
    if (fd < 0) return;
    try {
      int ignored = (int) CALLS.close.invokeExact(fd);
    } catch (Throwable e) {
      // a descriptor used only for hints
    } finally {
      fd = -1;
    }
  }
}
