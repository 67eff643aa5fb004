package dev.strata.replica.restore;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Runs SQLite's integrity check through the system's SQLite library with reads of 256 KiB where SQLite reads
 * pages in a row, for {@link IntegrityCheck}.
 *
 * <p>Why: SQLite reads a database one page per {@code pread}. Where a system call costs microseconds (a virtual
 * machine), {@code quick_check} of a freshly restored 1 GiB database spent 0.75 s of its 1.2 s in the kernel for
 * 262,144 preads of 4 KiB. SQLite's own remedy, {@code mmap}, makes the restore's resident memory as large as the
 * database. A VFS that serves SQLite's page reads from larger reads needs SQLite's VFS functions, which the bundled
 * JDBC driver does not export; the system's {@code libsqlite3.so.0} does, and is reached through the FFM API.
 *
 * <p>The VFS registered here ({@value #VFS_NAME}) is the system's default one with two methods of each main database
 * file replaced: {@code xRead}, which keeps a window of the file and fills it with one read when SQLite reads
 * neighbouring pages one after another (the leaves of a B-tree written in order) and passes other reads through
 * untouched; and {@code xClose}, which frees the window. Only immutable, read-only files are opened through it, so a window never
 * goes stale.
 *
 * <p>This is only a faster way to the same answer: a check that does not say {@code ok} here (or cannot run: no
 * library, another platform) is run again through the bundled driver, whose verdict counts.
 */
final class ReadAheadSqlite {
  private static final String VFS_NAME = "strata-readahead";
  private static final int WINDOW = 256 * 1024;

  private static final int SQLITE_OK = 0, SQLITE_IOERR = 10, SQLITE_ROW = 100, SQLITE_DONE = 101;
  private static final int OPEN_READONLY = 0x1, OPEN_URI = 0x40, OPEN_MAIN_DB = 0x100;
  /** {@code sqlite3_vfs}: iVersion 3 is 168 bytes; offsets of the fields used. */
  private static final int VFS_SIZE = 168, VFS_NEXT = 16, VFS_NAME_FIELD = 24, VFS_OPEN = 40;
  /** {@code sqlite3_io_methods}: iVersion 3 is 152 bytes; offsets of the methods used. */
  private static final int METHODS_SIZE = 152, M_CLOSE = 8, M_READ = 16, M_FILE_SIZE = 48;

  private static final Linker LINKER = Linker.nativeLinker();
  /** A NUL-terminated string SQLite returns, readable up to its NUL. */
  private static final AddressLayout C_STRING =
      ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Integer.MAX_VALUE, JAVA_BYTE));
  /** Calls of SQLite's own function pointers (the default VFS's open, a file's read, close and size). */
  private static final MethodHandle CALL_OPEN = LINKER.downcallHandle(
      FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
  private static final MethodHandle CALL_READ = LINKER.downcallHandle(
      FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG));
  private static final MethodHandle CALL_CLOSE = LINKER.downcallHandle(FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle CALL_FILE_SIZE = LINKER.downcallHandle(
      FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

  /** Open main database files by the address of their {@code sqlite3_file}. */
  private static final ConcurrentHashMap<Long, Window> FILES = new ConcurrentHashMap<>();
  /** Our copy of each io-methods table the default VFS handed out, by the original's address. */
  private static final ConcurrentHashMap<Long, MemorySegment> METHODS = new ConcurrentHashMap<>();
  /** Window fills so far, for tests: proof that the read-ahead path ran. */
  static final AtomicLong WINDOW_FILLS = new AtomicLong();

  private static MemorySegment defaultOpen, readStub, closeStub;
  /** The library with the VFS registered; null where it cannot be loaded. */
  private static final ReadAheadSqlite INSTANCE = load();

  private final MethodHandle open, prepare, step, columnText, finalizeStmt, close;

  private ReadAheadSqlite(SymbolLookup lib) {
    open = function(lib, "sqlite3_open_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
    prepare = function(lib, "sqlite3_prepare_v2",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    step = function(lib, "sqlite3_step", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    columnText = function(lib, "sqlite3_column_text", FunctionDescriptor.of(C_STRING, ADDRESS, JAVA_INT));
    finalizeStmt = function(lib, "sqlite3_finalize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    close = function(lib, "sqlite3_close_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  }

  private static MethodHandle function(SymbolLookup lib, String name, FunctionDescriptor d) {
    return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException("no " + name)), d);
  }

  /** Main database files open through the VFS now (for tests: none is left open). */
  static int openFiles() {
    return FILES.size();
  }

  /** True when checks can run here (the system library is present and the VFS registered). */
  static boolean available() {
    return INSTANCE != null;
  }

  /**
   * Runs {@code pragma} on an immutable database file; returns its first rows (at most 5), or null when it could not
   * run here at all.
   */
  static List<String> check(Path db, String pragma) {
    if (INSTANCE == null) return null;
    try {
      return INSTANCE.run(db, pragma);
    } catch (Throwable e) { // any doubt leaves the verdict to the bundled driver
      return null;
    }
  }

  private List<String> run(Path db, String pragma) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      String uri = "file:" + db.toAbsolutePath().toUri().getRawPath() + "?immutable=1";
      int rc = (int) open.invokeExact(a.allocateFrom(uri), out, OPEN_READONLY | OPEN_URI, a.allocateFrom(VFS_NAME));
      MemorySegment conn = out.get(ADDRESS, 0);
      try {
        if (rc != SQLITE_OK) return null;
        if ((int) prepare.invokeExact(conn, a.allocateFrom(pragma), -1, out, MemorySegment.NULL) != SQLITE_OK) {
          return null;
        }
        MemorySegment stmt = out.get(ADDRESS, 0);
        List<String> rows = new ArrayList<>();
        try {
          while ((rc = (int) step.invokeExact(stmt)) == SQLITE_ROW) {
            MemorySegment text = (MemorySegment) columnText.invokeExact(stmt, 0);
            if (rows.size() < 5) rows.add(text.address() == 0 ? "" : text.getString(0));
          }
        } finally {
          int ignored = (int) finalizeStmt.invokeExact(stmt);
        }
        return rc == SQLITE_DONE ? rows : null;
      } finally {
        int ignored = (int) close.invokeExact(conn);
      }
    }
  }

  /** Loads the system library and registers the VFS; null (and no VFS) when anything is missing. */
  private static ReadAheadSqlite load() {
    try {
      SymbolLookup lib = SymbolLookup.libraryLookup("libsqlite3.so.0", Arena.global());
      // Restores may check on several threads at once: a library built single-threaded is not used.
      if ((int) function(lib, "sqlite3_threadsafe", FunctionDescriptor.of(JAVA_INT)).invokeExact() == 0) return null;
      ReadAheadSqlite sqlite = new ReadAheadSqlite(lib);
      MethodHandle find = function(lib, "sqlite3_vfs_find", FunctionDescriptor.of(ADDRESS, ADDRESS));
      MethodHandle register = function(lib, "sqlite3_vfs_register",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
      MemorySegment base = ((MemorySegment) find.invokeExact(MemorySegment.NULL)).reinterpret(VFS_SIZE);
      if (base.address() == 0 || base.get(JAVA_INT, 0) < 3) return null;
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      Arena global = Arena.global();
      readStub = LINKER.upcallStub(lookup.findStatic(ReadAheadSqlite.class, "xRead",
          MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, int.class, long.class)),
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG), global);
      closeStub = LINKER.upcallStub(lookup.findStatic(ReadAheadSqlite.class, "xClose",
          MethodType.methodType(int.class, MemorySegment.class)), FunctionDescriptor.of(JAVA_INT, ADDRESS), global);
      MemorySegment openStub = LINKER.upcallStub(lookup.findStatic(ReadAheadSqlite.class, "xOpen",
          MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class,
              int.class, MemorySegment.class)),
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), global);
      defaultOpen = base.get(ADDRESS, VFS_OPEN);
      // A copy of the default VFS (its pAppData included, which its methods rely on) under our name and open.
      MemorySegment vfs = global.allocate(VFS_SIZE, 8).copyFrom(base);
      vfs.set(ADDRESS, VFS_NEXT, MemorySegment.NULL);
      vfs.set(ADDRESS, VFS_NAME_FIELD, global.allocateFrom(VFS_NAME));
      vfs.set(ADDRESS, VFS_OPEN, openStub);
      if ((int) register.invokeExact(vfs, 0) != SQLITE_OK) return null;
      return sqlite;
    } catch (Throwable e) { // no library, an old one, another platform: checks use the bundled driver
      return null;
    }
  }

  /** The VFS's xOpen: the default VFS opens the file; main database files get our read and close. */
  private static int xOpen(MemorySegment vfs, MemorySegment name, MemorySegment file, int flags,
      MemorySegment outFlags) {
    int rc;
    try {
      rc = (int) CALL_OPEN.invokeExact(defaultOpen, vfs, name, file, flags, outFlags);
    } catch (Throwable e) {
      return SQLITE_IOERR;
    }
    if (rc != SQLITE_OK || (flags & OPEN_MAIN_DB) == 0 || (flags & OPEN_READONLY) == 0) return rc;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment f = file.reinterpret(8);
      MemorySegment methods = f.get(ADDRESS, 0).reinterpret(METHODS_SIZE);
      if (methods.address() == 0 || methods.get(JAVA_INT, 0) != 3) return rc;
      MemorySegment size = a.allocate(JAVA_LONG);
      if ((int) CALL_FILE_SIZE.invokeExact(methods.get(ADDRESS, M_FILE_SIZE), file, size) != SQLITE_OK) return rc;
      MemorySegment ours = METHODS.computeIfAbsent(methods.address(), k -> {
        MemorySegment copy = Arena.global().allocate(METHODS_SIZE, 8).copyFrom(methods);
        copy.set(ADDRESS, M_READ, readStub);
        copy.set(ADDRESS, M_CLOSE, closeStub);
        return copy;
      });
      FILES.put(file.address(), new Window(methods.get(ADDRESS, M_READ), methods.get(ADDRESS, M_CLOSE),
          size.get(JAVA_LONG, 0)));
      f.set(ADDRESS, 0, ours);
    } catch (Throwable e) {
      // the file stays open with the default methods: correct, only without read-ahead
    }
    return rc;
  }

  /** The files' xRead: from the window when it holds the range; refilled when reads follow each other. */
  private static int xRead(MemorySegment file, MemorySegment buf, int amount, long offset) {
    Window w = FILES.get(file.address());
    if (w == null) return SQLITE_IOERR;
    try {
      if (w.serve(file, buf, amount, offset)) return SQLITE_OK;
      return (int) CALL_READ.invokeExact(w.read, file, buf, amount, offset);
    } catch (Throwable e) {
      return SQLITE_IOERR;
    }
  }

  private static int xClose(MemorySegment file) {
    Window w = FILES.remove(file.address());
    if (w == null) return SQLITE_IOERR;
    w.arena.close();
    try {
      return (int) CALL_CLOSE.invokeExact(w.close, file);
    } catch (Throwable e) {
      return SQLITE_IOERR;
    }
  }

  /** The part of one open file held in memory, and where SQLite's last read was. */
  private static final class Window {
    final MemorySegment read, close;
    final long size;
    final Arena arena = Arena.ofShared();
    MemorySegment bytes;
    long start, lastStart = -1, lastEnd = -1;
    int length;

    Window(MemorySegment read, MemorySegment close, long size) {
      this.read = read;
      this.close = close;
      this.size = size;
    }

    /**
     * Copies the range into {@code buf} if the window holds it or a fill can; false to read it plainly. A read that
     * starts where the last one ended fills the window onwards; one that ends where the last one started (SQLite's
     * checks visit a page's cells, and so its children, last to first) fills it backwards.
     */
    boolean serve(MemorySegment file, MemorySegment buf, int amount, long offset) throws Throwable {
      boolean forward = offset == lastEnd, backward = offset + amount == lastStart;
      lastStart = offset;
      lastEnd = offset + amount;
      if (offset < start || offset + amount > start + length) {
        if (!forward && !backward || amount > WINDOW / 4 || offset + amount > size) return false;
        long from = forward ? offset : Math.max(0, offset + amount - WINDOW);
        int n = (int) Math.min(WINDOW, size - from);
        if (bytes == null) bytes = arena.allocate(WINDOW, 4096);
        length = 0;
        if ((int) CALL_READ.invokeExact(read, file, bytes, n, from) != SQLITE_OK) return false;
        start = from;
        length = n;
        WINDOW_FILLS.incrementAndGet();
      }
      MemorySegment.copy(bytes, offset - start, buf.reinterpret(amount), 0, amount);
      return true;
    }
  }
}
