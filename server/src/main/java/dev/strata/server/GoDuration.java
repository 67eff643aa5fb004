package dev.strata.server;

import java.time.Duration;

/** Go's {@code time.Duration.String} ({@code 10s}, {@code 5m0s}, {@code 720h0m0s}), for logs that read like lfsb's. */
final class GoDuration {
  private GoDuration() {}

  static String format(Duration d) {
    if (d.isZero()) return "0s";
    long s = d.toSeconds();
    long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
    if (h > 0) return h + "h" + m + "m" + sec + "s";
    if (m > 0) return m + "m" + sec + "s";
    return sec + "s";
  }
}
