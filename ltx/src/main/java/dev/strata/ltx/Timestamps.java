package dev.strata.ltx;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/** RFC3339Milli timestamps ({@code 2006-01-02T15:04:05.000Z}): fixed width, UTC, sortable. */
public final class Timestamps {
  private static final DateTimeFormatter MILLI =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Timestamps() {}

  /** Formats epoch milliseconds. */
  public static String format(long epochMillis) {
    return MILLI.format(Instant.ofEpochMilli(epochMillis));
  }

  /** Formats an instant, truncated to milliseconds. */
  public static String format(Instant t) {
    return format(t.toEpochMilli());
  }

  /** Parses RFC 3339 with any fraction and zone; truncates to milliseconds. */
  public static Instant parse(String text) {
    try {
      return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant()
          .truncatedTo(ChronoUnit.MILLIS);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("invalid timestamp (want RFC 3339, e.g. 2026-11-21T10:00:00Z): \""
          + text + "\"");
    }
  }
}
