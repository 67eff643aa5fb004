package dev.strata.replica.restore;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shows how a restore advances: on a terminal one line redrawn in place (phase, files, bytes, rate, ETA); otherwise
 * plain lines at each phase and every quarter of it, so that logs stay short. Thread-safe.
 */
public final class RestoreProgress {
  private static final long REDRAW_NANOS = 200_000_000L;

  private final PrintStream out;
  private final boolean terminal;
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicInteger files = new AtomicInteger();
  private volatile String phase = "";
  private volatile long totalBytes;
  private volatile int totalFiles;
  private volatile long phaseStart;
  private long lastDraw;
  private int lastQuarter;

  private RestoreProgress(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  /** Shows nothing. */
  public static RestoreProgress silent() {
    return new RestoreProgress(null, false);
  }

  /** Writes to standard error: redrawn in place when it is a terminal, plain lines otherwise. */
  public static RestoreProgress console() {
    var console = System.console();
    return new RestoreProgress(System.err, console != null && console.isTerminal());
  }

  /** Writes plain lines to {@code out}. */
  public static RestoreProgress lines(PrintStream out) {
    return new RestoreProgress(out, false);
  }

  /** Starts a phase ({@code download}, {@code merge}) over so many files and bytes. */
  void phase(String name, int fileCount, long byteCount) {
    if (out == null) return;
    synchronized (this) {
      finishLine();
      phase = name;
      totalFiles = fileCount;
      totalBytes = byteCount;
      bytes.set(0);
      files.set(0);
      phaseStart = System.nanoTime();
      lastDraw = 0;
      lastQuarter = 0;
      if (!terminal) out.println("restore: " + name + " " + fileCount + " files, " + size(byteCount));
    }
  }

  /** Counts bytes processed in the current phase. */
  void add(long n) {
    if (out == null) return;
    bytes.addAndGet(n);
    maybeDraw();
  }

  /** Counts a file finished in the current phase. */
  void fileDone() {
    if (out == null) return;
    files.incrementAndGet();
    maybeDraw();
  }

  /** Prints a step without a byte count (checks, rename). */
  void step(String text) {
    if (out == null) return;
    synchronized (this) {
      finishLine();
      out.println("restore: " + text);
    }
  }

  private void maybeDraw() {
    long now = System.nanoTime();
    synchronized (this) {
      if (terminal) {
        if (now - lastDraw < REDRAW_NANOS) return;
        lastDraw = now;
        out.print("\r" + status(now) + "\u001b[K");
        out.flush();
      } else {
        long total = totalBytes;
        int quarter = total <= 0 ? 0 : (int) Math.min(4, bytes.get() * 4 / total);
        if (quarter > lastQuarter && quarter < 4) {
          lastQuarter = quarter;
          out.println("restore: " + status(now));
        }
      }
    }
  }

  private String status(long now) {
    long done = bytes.get(), total = totalBytes;
    double secs = Math.max(1e-3, (now - phaseStart) / 1e9);
    double rate = done / secs;
    String eta = rate <= 0 || done >= total ? "" : " ETA " + duration((total - done) / rate);
    return String.format(Locale.ROOT, "%s %d/%d files %s/%s %s/s%s", phase, files.get(), totalFiles, size(done),
        size(total), size((long) rate), eta);
  }

  private void finishLine() {
    if (terminal && lastDraw != 0) {
      out.print("\r" + status(System.nanoTime()) + "\u001b[K\n");
      lastDraw = 0;
    }
  }

  /** Ends the display. */
  void end() {
    if (out == null) return;
    synchronized (this) {
      finishLine();
    }
  }

  static String size(long n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    if (n < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
  }

  static String duration(double secs) {
    if (secs < 60) return String.format(Locale.ROOT, "%.0fs", Math.ceil(secs));
    long s = (long) Math.ceil(secs);
    return s / 3600 > 0 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
        : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }
}
