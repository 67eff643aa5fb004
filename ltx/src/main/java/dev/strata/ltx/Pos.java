package dev.strata.ltx;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A replication position: the last TXID applied and the database checksum after it. */
public record Pos(long txid, long postApplyChecksum) {
  /** The position of a database that does not exist yet. */
  public static final Pos ZERO = new Pos(0, 0);

  private static final Pattern JSON_FIELD =
      Pattern.compile("\"(\\w+)\"\\s*:\\s*(null|\"[^\"]*\"|[^,}\\s]+)", Pattern.CASE_INSENSITIVE);

  /** True for the position of a database that does not exist yet. */
  public boolean isZero() {
    return txid == 0 && postApplyChecksum == 0;
  }

  /** {@code <txid hex16>/<checksum hex16>}, as Go's {@code Pos.String}. */
  @Override
  public String toString() {
    return Txid.format(txid) + "/" + Checksum.format(postApplyChecksum);
  }

  /** Parses {@link #toString()}'s form, {@code <txid hex16>/<checksum hex16>}. */
  public static Pos parse(String text) {
    if (text == null || text.length() != 33) {
      throw new IllegalArgumentException("invalid formatted position length: " + Txid.quote(text));
    }
    if (text.charAt(16) != '/') throw new IllegalArgumentException("invalid formatted position: " + Txid.quote(text));
    return new Pos(Txid.parse(text.substring(0, 16)), Checksum.parse(text.substring(17)));
  }

  /** Go's JSON shape: {@code {"TXID":"…","PostApplyChecksum":"…"}}. */
  public String toJson() {
    return "{\"TXID\":\"" + Txid.format(txid) + "\",\"PostApplyChecksum\":\""
        + Checksum.format(postApplyChecksum) + "\"}";
  }

  /**
   * Parses Go's JSON shape. Keys match case-insensitively and {@code null} reads as 0, as in Go; a value that is
   * not a string is an error.
   */
  public static Pos parseJson(String json) {
    long txid = 0, checksum = 0;
    Matcher m = JSON_FIELD.matcher(json);
    while (m.find()) {
      String key = m.group(1), value = m.group(2);
      if (key.equalsIgnoreCase("TXID")) txid = Txid.parseJson(value);
      else if (key.equalsIgnoreCase("PostApplyChecksum")) checksum = Checksum.parseJson(value);
    }
    return new Pos(txid, checksum);
  }
}
