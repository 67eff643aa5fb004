package dev.strata.ltx;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A replication position: the last TXID applied and the database checksum after it. */
public record Pos(long txid, long postApplyChecksum) {
  /** The position of a database that does not exist yet. */
  public static final Pos ZERO = new Pos(0, 0);

  private static final Pattern JSON_FIELD =
      Pattern.compile("\"(\\w+)\"\\s*:\\s*(null|\"([^\"]*)\"|[^,}\\s]+)", Pattern.CASE_INSENSITIVE);

  /** True for the position of a database that does not exist yet. */
  public boolean isZero() {
    return txid == 0 && postApplyChecksum == 0;
  }

  /** {@code <txid hex16>/<checksum hex16>}, as Go's {@code Pos.String}. */
  @Override
  public String toString() {
    return Txid.format(txid) + "/" + Checksum.format(postApplyChecksum);
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
      String key = m.group(1), raw = m.group(2), str = m.group(3);
      long value;
      if (raw.equals("null")) value = 0;
      else if (str == null) throw new IllegalArgumentException("invalid position JSON: " + key + " is not a string");
      else value = Txid.parseHex16(str, key);
      if (key.equalsIgnoreCase("TXID")) txid = value;
      else if (key.equalsIgnoreCase("PostApplyChecksum")) checksum = value;
    }
    return new Pos(txid, checksum);
  }
}
