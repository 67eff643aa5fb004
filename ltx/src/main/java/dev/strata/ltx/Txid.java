package dev.strata.ltx;

import java.util.HexFormat;

/** Transaction IDs: unsigned 64-bit, written as 16 lowercase hex digits. */
public final class Txid {
  private Txid() {}

  /**
   * Compares two TXIDs. TXIDs are unsigned 64-bit numbers (Go's uint64 in LiteFS and superfly/ltx), so every
   * ordering of TXIDs in Strata goes through here, never through {@code <} on a {@code long}.
   */
  public static int compare(long a, long b) {
    return Long.compareUnsigned(a, b);
  }

  /** The larger of two TXIDs (unsigned). */
  public static long max(long a, long b) {
    return compare(a, b) >= 0 ? a : b;
  }

  /** {@code %016x}. */
  public static String format(long txid) {
    return HexFormat.of().toHexDigits(txid);
  }

  /** Parses exactly 16 hex digits (either case), as Go's {@code ltx.ParseTXID} does. */
  public static long parse(String text) {
    return parseHex16(text, "transaction id");
  }

  /** The JSON form: a string of 16 hex digits, as Go marshals {@code ltx.TXID}. */
  public static String toJson(long txid) {
    return '"' + format(txid) + '"';
  }

  /** Parses the JSON form; {@code null} reads as 0, any value other than a string is an error (as in Go). */
  public static long parseJson(String json) {
    return parseJsonHex16(json, "TXID");
  }

  /**
   * Parses 16 hex digits with superfly/ltx's messages ({@code invalid formatted <what> length: "…"},
   * {@code invalid <what> format: "…"}). Only digits: {@link Long#parseUnsignedLong} alone would take a '+'.
   */
  static long parseHex16(String text, String what) {
    if (text == null || text.length() != 16) {
      throw new IllegalArgumentException("invalid formatted " + what + " length: " + quote(text));
    }
    for (int i = 0; i < 16; i++) {
      if (Character.digit(text.charAt(i), 16) < 0) {
        throw new IllegalArgumentException("invalid " + what + " format: " + quote(text));
      }
    }
    return Long.parseUnsignedLong(text, 16);
  }

  /** One JSON value holding hex16 or null, with Go's messages for {@code what} ("TXID" or "checksum"). */
  static long parseJsonHex16(String json, String what) {
    String v = json.strip();
    if (v.equals("null")) return 0;
    if (v.length() < 2 || v.charAt(0) != '"' || v.charAt(v.length() - 1) != '"') {
      throw new IllegalArgumentException("cannot unmarshal " + what + " from JSON value");
    }
    String s = v.substring(1, v.length() - 1);
    try {
      return parseHex16(s, what);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot parse " + what + " from JSON string: " + quote(s));
    }
  }

  static String quote(String s) {
    return s == null ? "null" : '"' + s + '"';
  }
}
