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
import java.util.concurrent.locks.LockSupport;

/**
 * Starts the kernel's writeback of a file as it is written, without waiting for it: Linux
 * {@code sync_file_range(SYNC_FILE_RANGE_WRITE)} through the FFM API, on a descriptor of its own (writeback is per
 * file, not per descriptor). The disk then writes while the restore goes on decoding, and the final fsync has
 * little left to do. The calls run on a thread of their own, because {@code sync_file_range} blocks while the
 * disk's queue is full and the writer must not: a restore whose writes run ahead of the disk finishes its merge
 * early and checks the file while the disk catches up. It never consumes a write error: the final fsync still
 * reports any. Where the call is missing (not Linux, no native access) it does nothing, and the final fsync does
 * all the writing.
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
  private final long every;
  private final Thread thread;
  private volatile long written; // bytes [0, written) are written
  private volatile boolean closed;

  private EarlyWriteback(int fd, long every) {
    this.fd = fd;
    this.every = every;
    thread = fd < 0 ? null : Thread.ofPlatform().daemon().name("restore-writeback").start(this::run);
  }

  /** Opens {@code file} for writeback hints every {@code every} bytes; never fails (it then does nothing). */
  static EarlyWriteback open(Path file, long every) {
    if (CALLS == null) return new EarlyWriteback(-1, every);
    try (Arena arena = Arena.ofConfined()) {
      return new EarlyWriteback((int) CALLS.open.invokeExact(arena.allocateFrom(file.toString()), O_WRONLY), every);
    } catch (Throwable e) {
      return new EarlyWriteback(-1, every);
    }
  }

  /** Notes that the file is written up to {@code end} (in order); returns at once. */
  void written(long end) {
    if (thread == null || end - written < every) return;
    written = end;
    LockSupport.unpark(thread);
  }

  /** The hint thread: starts writeback of what was written since the last hint, until closed or refused. */
  private void run() {
    long hinted = 0;
    while (!closed) {
      long end = written;
      if (end > hinted) {
        try {
          if ((int) CALLS.syncFileRange.invokeExact(fd, hinted, end - hinted, SYNC_FILE_RANGE_WRITE) != 0) return;
        } catch (Throwable e) {
          return;
        }
        hinted = end;
      } else {
        LockSupport.park(this);
      }
    }
  }

  /** Stops the hints (waiting for one in progress) and closes the descriptor. */
  @Override
  public void close() {
    if (thread == null || closed) return;
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      int ignored = (int) CALLS.close.invokeExact(fd);
    } catch (Throwable e) {
      // a descriptor used only for hints
    }
    fd = -1;
  }
}
