package dev.strata.agent.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go-style durations as Litestream's config writes them: {@code 500ms}, {@code 1s}, {@code 10m}, {@code 1h30m}, {@code 720h}; also {@code 30d}. */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h|d)");

  private Durations() {}

  /** Parses a duration; throws {@link IllegalArgumentException} naming the text. */
  public static Duration parse(String text) {
    String t = text.trim();
    if (t.equals("0")) return Duration.ZERO;
    Matcher m = PART.matcher(t);
    long nanos = 0;
    int end = 0;
    while (m.find() && m.start() == end) {
      double v = Double.parseDouble(m.group(1));
      double unit = switch (m.group(2)) {
        case "ns" -> 1;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        case "h" -> 3600e9;
        default -> 86400e9;
      };
      nanos += (long) (v * unit);
      end = m.end();
    }
    if (end == 0 || end != t.length()) {
      throw new IllegalArgumentException("invalid duration \"" + text + "\" (want e.g. 1s, 500ms, 10m, 24h)");
    }
    return Duration.ofNanos(nanos);
  }
}
