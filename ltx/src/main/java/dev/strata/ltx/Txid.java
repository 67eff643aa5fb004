package dev.strata.ltx;

import java.util.HexFormat;

/** Transaction IDs: unsigned 64-bit, written as 16 lowercase hex digits. */
public final class Txid {
  private Txid() {}

  /** {@code %016x}. */
  public static String format(long txid) {
    return HexFormat.of().toHexDigits(txid);
  }

  /** Parses exactly 16 hex digits (either case), as Go's {@code ltx.ParseTXID} does. */
  public static long parse(String text) {
    return parseHex16(text, "transaction id");
  }

  static long parseHex16(String text, String what) {
    if (text == null || text.length() != 16) {
      throw new IllegalArgumentException("invalid " + what + " (want 16 hex digits): " + quote(text));
    }
    try {
      return Long.parseUnsignedLong(text, 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid " + what + " (want 16 hex digits): " + quote(text));
    }
  }

  static String quote(String s) {
    return s == null ? "null" : '"' + s + '"';
  }
}
