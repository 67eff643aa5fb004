package dev.strata.ltx;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** LTX file names: {@code <min hex16>-<max hex16>.ltx}, whose lexical order is TXID order. */
public final class LtxFileName {
  private static final Pattern NAME = Pattern.compile("^([0-9a-f]{16})-([0-9a-f]{16})\\.ltx$");

  private LtxFileName() {}

  /** The name of the file covering TXIDs {@code min..max}. */
  public static String format(long minTxid, long maxTxid) {
    return Txid.format(minTxid) + "-" + Txid.format(maxTxid) + ".ltx";
  }

  /** Parses a name; null when it is not an LTX file name. */
  public static TxidRange parse(String name) {
    Matcher m = NAME.matcher(name);
    if (!m.matches()) return null;
    return new TxidRange(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16));
  }
}
