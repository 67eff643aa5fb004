package dev.strata.cli;

import java.io.PrintStream;

/** A one-line progress bar on standard error, drawn only when there is a terminal and at most ten times a second. */
final class ProgressBar {
  private static final int WIDTH = 30;

  private final PrintStream out;
  private final String label;
  private final long total;
  private long lastDraw;

  private ProgressBar(PrintStream out, String label, long total) {
    this.out = out;
    this.label = label;
    this.total = total;
  }

  /** A bar for {@code total} bytes (−1 if unknown); silent when not on a terminal. */
  static ProgressBar forTerminal(String label, long total) {
    return new ProgressBar(System.console() != null ? System.err : null, label, total);
  }

  void update(long done) {
    if (out == null) return;
    long now = System.nanoTime();
    if (now - lastDraw < 100_000_000L) return;
    lastDraw = now;
    draw(done);
  }

  void done(long done) {
    if (out == null) return;
    draw(done);
    out.println();
  }

  private void draw(long done) {
    if (total > 0) {
      int filled = (int) (WIDTH * Math.min(done, total) / total);
      out.printf("\r%s [%s%s] %3d%% %s / %s", label, "#".repeat(filled), " ".repeat(WIDTH - filled),
          100 * done / total, size(done), size(total));
    } else {
      out.printf("\r%s %s", label, size(done));
    }
    out.flush();
  }

  static String size(long bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return String.format("%.1f KiB", bytes / 1024.0);
    if (bytes < 1024L * 1024 * 1024) return String.format("%.1f MiB", bytes / (1024.0 * 1024));
    return String.format("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  }
}
