package dev.strata.server;

/** Validation of cluster and database names (spec §2.4): they become storage path segments. */
public final class Names {
  /** Longest cluster name. */
  public static final int MAX_CLUSTER = 32;
  /** Longest database name. */
  public static final int MAX_DATABASE = 256;

  private Names() {}

  /** Checks a cluster name; throws {@code EBADCLUSTER}. */
  public static String checkCluster(String name) {
    if (name == null || name.isEmpty()) throw new ApiException(ErrorCode.EBADCLUSTER, "cluster required");
    if (!valid(name, MAX_CLUSTER)) throw new ApiException(ErrorCode.EBADCLUSTER, "cluster invalid");
    return name;
  }

  /** Checks a database name; throws {@code EBADDB}. */
  public static String checkDatabase(String name) {
    if (name == null || name.isEmpty()) throw new ApiException(ErrorCode.EBADDB, "database required");
    if (!valid(name, MAX_DATABASE)) {
      throw new ApiException(ErrorCode.EBADDB, "invalid database name: " + goQuote(name));
    }
    return name;
  }

  static boolean valid(String name, int maxLength) {
    if (name.length() > maxLength || name.startsWith(".")) return false;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
          || c == '.' || c == '-';
      if (!ok) return false;
    }
    return true;
  }

  /** Quotes like Go's {@code %q} for the ASCII range (other characters are kept as they are). */
  public static String goQuote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }
}
