package dev.strata.replica;

import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.s3.S3Config;
import dev.strata.replica.s3.S3ReplicaClient;
import dev.strata.replica.sftp.SftpConfig;
import dev.strata.replica.sftp.SftpReplicaClient;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replica URLs as Litestream reads them, and the client each one names:
 *
 * <ul>
 *   <li>a plain path, or {@code file:///path};
 *   <li>{@code s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&force-path-style=true
 *       &access-key-id=…&secret-access-key=…} (keys optional: else {@code AWS_ACCESS_KEY_ID}/{@code
 *       AWS_SECRET_ACCESS_KEY} and the rest of the SDK's default chain), plus {@code part-size} (e.g. {@code 16MiB}),
 *       {@code max-attempts} and {@code timeout} (e.g. {@code 30s});
 *   <li>{@code sftp://user[:password]@host[:port]/path?key-path=/path/key&host-key=ssh-ed25519%20AAAA…
 *       &known-hosts=/path&password=…&timeout=30s}; without {@code host-key} the host must be in {@code known-hosts}
 *       (default {@code ~/.ssh/known_hosts}).
 * </ul>
 *
 * Any URL may add {@code age-recipient=age1…} (encrypt to these public keys) and {@code age-identity=/path/key.txt}
 * (decrypt with the keys in these files), each a comma-separated list: see {@link AgeReplicaClient}.
 *
 * Option names may also be written in camelCase ({@code forcePathStyle}). Values are percent-decoded; a {@code +}
 * stays a plus, as base64 keys need.
 */
public final class ReplicaUrl {
  private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://");
  private static final Set<String> NOT_YET = Set.of("gs", "gcs", "abs", "webdav", "webdavs", "nats", "oss");
  private static final Pattern SCHEME_TYPO =
      Pattern.compile("^(?i)(file|s3|sftp|gs|gcs|abs|webdavs?|nats|oss):(?!//)");

  private ReplicaUrl() {}

  /**
   * Opens the replica a URL names, without sending any request. Bad configuration (unknown scheme, missing bucket,
   * unreadable key file, unknown option…) is an {@link IllegalArgumentException} with a one-line message, which
   * never holds a secret: it shows the URL only through {@link #redact}, and no value of a secret option.
   */
  public static ReplicaClient open(String url) {
    return open(url, AgeKeys.NONE);
  }

  /**
   * Opens the replica a URL names, encrypted with age when the URL ({@code age-recipient}, {@code age-identity}) or
   * {@code extra} give keys: see {@link AgeReplicaClient}. Without any key the backend's own client is returned.
   */
  public static ReplicaClient open(String url, AgeKeys extra) {
    ReplicaClient c = openBackend(url, extra);
    return c instanceof AgeReplicaClient a && a.detectsOnly() ? a.delegate() : c;
  }

  /** The keys an URL's {@code age-recipient} and {@code age-identity} options give (comma-separated lists). */
  private static AgeKeys ageKeys(Options o) {
    String r = o.take("age-recipient"), i = o.take("age-identity");
    if (r == null && i == null) return AgeKeys.NONE;
    java.util.List<String> recipients = r == null ? java.util.List.of()
        : java.util.Arrays.stream(r.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
    java.util.List<Path> identities = i == null ? java.util.List.of()
        : java.util.Arrays.stream(i.split(",")).map(String::strip).filter(x -> !x.isEmpty()).map(ReplicaUrl::home)
            .toList();
    return new AgeKeys(recipients, identities);
  }

  private static ReplicaClient openBackend(String url, AgeKeys extra) {
    if (url == null || url.isBlank()) throw new IllegalArgumentException("replica URL required");
    Matcher m = SCHEME.matcher(url);
    if (!m.find()) {
      if (url.contains("://")) throw new IllegalArgumentException("invalid replica URL (no scheme): " + redact(url));
      Matcher typo = SCHEME_TYPO.matcher(url);
      if (typo.find()) { // "s3:/bucket" is a mistyped URL, not a directory; not echoed, it may hold keys
        throw new IllegalArgumentException("invalid replica URL: want " + typo.group(1) + "://…");
      }
      return AgeReplicaClient.wrap(new FileReplicaClient(Path.of(url)), extra);
    }
    String scheme = m.group(1).toLowerCase(Locale.ROOT);
    Parts u = Parts.parse(scheme, url.substring(m.end()));
    AgeKeys keys = ageKeys(u.options).plus(extra);
    keys.validate();
    ReplicaClient backend = switch (scheme) {
      case "file" -> openFile(u, url);
      case "s3" -> new S3ReplicaClient(s3Config(u));
      case "sftp" -> new SftpReplicaClient(sftpConfig(u));
      default -> {
        if (NOT_YET.contains(scheme)) {
          throw new IllegalArgumentException("replica URL scheme \"" + scheme + "\" is not supported yet "
              + "(supported: a path, file://, s3://, sftp://)");
        }
        throw new IllegalArgumentException("unknown replica URL scheme \"" + scheme + "\" in " + redact(url)
            + " (want a path, file://, s3:// or sftp://)");
      }
    };
    return AgeReplicaClient.wrap(backend, keys);
  }

  private static ReplicaClient openFile(Parts u, String url) {
    if (!u.authority.isEmpty() && !u.authority.equals("localhost")) {
      throw new IllegalArgumentException("file replica URL must be file:///absolute/path, not " + redact(url));
    }
    if (u.path.isEmpty()) throw new IllegalArgumentException("file replica URL has no path: " + redact(url));
    u.options.done("file");
    return new FileReplicaClient(Path.of(u.path));
  }

  /** The settings an {@code s3://} URL gives. */
  static S3Config s3Config(Parts u) {
    if (u.host.isEmpty()) throw new IllegalArgumentException("missing bucket in s3 URL (want s3://bucket/path)");
    if (u.userInfo != null || u.port >= 0) {
      throw new IllegalArgumentException("s3 URL: the host part is the bucket name alone (keys go in access-key-id "
          + "and secret-access-key): " + redact("s3://" + u.authority));
    }
    Options o = u.options;
    String endpointText = o.take("endpoint");
    URI endpoint = endpointText == null ? null : endpoint(endpointText);
    String region = o.take("region");
    String pathStyle = o.take("force-path-style");
    boolean forcePathStyle = pathStyle == null ? endpoint != null : bool("force-path-style", pathStyle);
    String keyId = o.take("access-key-id");
    String secret = o.take("secret-access-key");
    String partSize = o.take("part-size");
    String maxAttempts = o.take("max-attempts");
    String timeout = o.take("timeout");
    o.done("s3");
    return new S3Config(u.host, u.path, endpoint, region, forcePathStyle, keyId, secret,
        partSize == null ? S3Config.DEFAULT_PART_SIZE : size("part-size", partSize),
        maxAttempts == null ? S3Config.DEFAULT_MAX_ATTEMPTS : integer("max-attempts", maxAttempts),
        timeout == null ? S3Config.DEFAULT_TIMEOUT : duration("timeout", timeout));
  }

  /** The settings an {@code sftp://} URL gives. */
  static SftpConfig sftpConfig(Parts u) {
    if (u.host.isEmpty()) throw new IllegalArgumentException("missing host in sftp URL (want sftp://user@host/path)");
    Options o = u.options;
    String user = u.userInfo;
    String password = null;
    if (user != null && user.contains(":")) {
      password = user.substring(user.indexOf(':') + 1);
      user = user.substring(0, user.indexOf(':'));
    }
    if (user == null || user.isEmpty()) {
      throw new IllegalArgumentException("missing user in sftp URL (want sftp://user@host/path)");
    }
    String passwordOption = o.take("password");
    if (passwordOption != null) password = passwordOption;
    String keyPath = o.take("key-path");
    String hostKey = o.take("host-key");
    String knownHosts = o.take("known-hosts");
    String timeout = o.take("timeout");
    o.done("sftp");
    Path known = knownHosts != null ? home(knownHosts)
        : hostKey == null ? Path.of(System.getProperty("user.home"), ".ssh", "known_hosts") : null;
    return new SftpConfig(u.host, u.port < 0 ? 22 : u.port, user, password, keyPath == null ? null : home(keyPath),
        hostKey, known, u.path.isEmpty() ? null : u.path,
        timeout == null ? SftpConfig.DEFAULT_TIMEOUT : duration("timeout", timeout));
  }

  /** A scheme-less endpoint gets http:// when it looks local or private, https:// otherwise (as in Litestream). */
  private static URI endpoint(String text) {
    String t = text;
    if (!t.contains("://")) {
      String host = t.replaceAll("[:/].*$", "");
      boolean local = host.equals("localhost") || host.endsWith(".localhost") || host.startsWith("127.")
          || host.startsWith("10.") || host.startsWith("192.168.") || host.matches("172\\.(1[6-9]|2\\d|3[01])\\..*");
      t = (local ? "http://" : "https://") + t;
    }
    try {
      URI uri = new URI(t);
      if (uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        throw new IllegalArgumentException();
      }
      return uri;
    } catch (Exception e) {
      throw new IllegalArgumentException("s3 URL: invalid endpoint \"" + redact(text)
          + "\" (want an http:// or https:// URL with a host)");
    }
  }

  private static Path home(String p) {
    if (p.equals("~") || p.startsWith("~/")) return Path.of(System.getProperty("user.home") + p.substring(1));
    return Path.of(p);
  }

  private static boolean bool(String name, String v) {
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes" -> true;
      case "false", "0", "no" -> false;
      default -> throw new IllegalArgumentException("replica URL option " + name + ": want true or false, not \""
          + v + "\"");
    };
  }

  private static int integer(String name, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("replica URL option " + name + ": want a number, not \"" + v + "\"");
    }
  }

  /** {@code 16MiB}, {@code 5MB}, {@code 8388608}. */
  static long size(String name, String v) {
    Matcher m = Pattern.compile("(\\d+)\\s*([KMG]i?B?|B)?", Pattern.CASE_INSENSITIVE).matcher(v.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("replica URL option " + name + ": want a size such as 16MiB, not \"" + v
          + "\"");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
    boolean binary = unit.contains("I") || unit.length() == 1 && !unit.equals("B");
    long k = binary ? 1024 : 1000;
    return switch (unit.isEmpty() ? ' ' : unit.charAt(0)) {
      case 'K' -> n * k;
      case 'M' -> n * k * k;
      case 'G' -> n * k * k * k;
      default -> n;
    };
  }

  /** {@code 30s}, {@code 500ms}, {@code 2m}, or plain seconds. */
  static Duration duration(String name, String v) {
    Matcher m = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?").matcher(v.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("replica URL option " + name + ": want a duration such as 30s, not \"" + v
          + "\"");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2) == null ? "s" : m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  /** A URL in free text: an optional scheme, "://", then up to a space or a quote, less trailing punctuation. */
  private static final Pattern URL_IN_TEXT =
      Pattern.compile("(?:\\b([A-Za-z][A-Za-z0-9+.-]*))?://[^\\s\"'<>`]*?(?=[,.;:)]*(?:[\\s\"'<>`]|$))");
  /** Query options whose values messages may show; any other value may be a secret. */
  private static final Set<String> SHOWN_OPTIONS = Set.of("endpoint", "region", "force-path-style", "part-size",
      "max-attempts", "timeout", "key-path", "host-key", "known-hosts",
      "age-recipient", "age-identity", // public keys and the names of key files, not the keys
      "db", "format", "txid", "timestamp", "all"); // the last five: the backup server's API, in its clients' errors

  /**
   * The text with the secrets of every URL in it masked, for error messages and log lines: the userinfo (for sftp,
   * all but the user name), a host part that is not HOST:PORT, and the value of every query option not known to be
   * harmless ({@code endpoint}'s own URL is masked the same way). It masks too much rather than too little: a
   * password holding a raw "/" is masked whole.
   */
  public static String redact(String text) {
    if (text == null || !text.contains("://")) return text;
    Matcher m = URL_IN_TEXT.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(redactUrl(m.group(1), m.group())));
    return m.appendTail(out).toString();
  }

  private static String redactUrl(String scheme, String url) {
    int start = url.indexOf("://") + 3;
    int queryAt = url.indexOf('?', start);
    String beforeQuery = queryAt < 0 ? url.substring(start) : url.substring(start, queryAt);
    int slash = beforeQuery.indexOf('/');
    String authority = slash < 0 ? beforeQuery : beforeQuery.substring(0, slash);
    int at = authority.lastIndexOf('@');
    if (at < 0 && authority.contains(":")) at = beforeQuery.lastIndexOf('@'); // a password with a "/" in it
    StringBuilder b = new StringBuilder(url.length()).append(url, 0, start);
    if (at >= 0) {
      String userInfo = beforeQuery.substring(0, at);
      int colon = userInfo.indexOf(':');
      boolean sftp = "sftp".equalsIgnoreCase(scheme);
      b.append(!sftp ? "***" : colon < 0 ? userInfo : userInfo.substring(0, colon) + ":***");
      b.append(beforeQuery, at, beforeQuery.length());
    } else if (!authority.startsWith("[") && authority.matches(".*:.*[^0-9].*")) {
      b.append("***").append(beforeQuery, authority.length(), beforeQuery.length()); // "key:secret" without "@"
    } else {
      b.append(beforeQuery);
    }
    if (queryAt < 0) return b.toString();
    b.append('?');
    String sep = "";
    for (String pair : url.substring(queryAt + 1).split("&", -1)) {
      b.append(sep);
      sep = "&";
      int eq = pair.indexOf('=');
      String key = Options.kebab(decode(eq < 0 ? pair : pair.substring(0, eq)));
      if (eq < 0) b.append(pair.isEmpty() || SHOWN_OPTIONS.contains(key) ? pair : "***"); // a bare word
      else if (key.equals("endpoint")) b.append(pair, 0, eq + 1).append(redact(decode(pair.substring(eq + 1))));
      else if (SHOWN_OPTIONS.contains(key)) b.append(pair);
      else b.append(pair, 0, eq + 1).append("***");
    }
    return b.toString();
  }

  /** A URL split into its parts, each percent-decoded. */
  record Parts(String authority, String userInfo, String host, int port, String path, Options options) {
    static Parts parse(String scheme, String rest) {
      String query = "";
      int q = rest.indexOf('?');
      if (q >= 0) {
        query = rest.substring(q + 1);
        rest = rest.substring(0, q);
      }
      int slash = rest.indexOf('/');
      String authority = slash < 0 ? rest : rest.substring(0, slash);
      String path = slash < 0 ? "" : decode(rest.substring(slash));
      String userInfo = null;
      String hostPort = authority;
      int at = authority.lastIndexOf('@');
      if (at >= 0) {
        userInfo = authority.substring(0, at);
        hostPort = authority.substring(at + 1);
      }
      String host = hostPort;
      int port = -1;
      int colon = hostPort.startsWith("[") ? hostPort.indexOf("]:") + 1 : hostPort.lastIndexOf(':');
      if (colon > 0) {
        host = hostPort.substring(0, colon);
        String p = hostPort.substring(colon + 1);
        try {
          port = Integer.parseInt(p);
        } catch (NumberFormatException e) {
          // Not echoed: a key pasted as user:password without the "@" lands here.
          throw new IllegalArgumentException(scheme + " URL: invalid port (want HOST:PORT with a number)");
        }
      }
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
      if (userInfo != null) {
        int c = userInfo.indexOf(':');
        userInfo = c < 0 ? decode(userInfo) : decode(userInfo.substring(0, c)) + ":" + decode(userInfo.substring(c + 1));
      }
      return new Parts(authority, userInfo, decode(host), port, path, Options.parse(scheme, query));
    }

    /** Hides the password. */
    @Override
    public String toString() {
      return "Parts[" + host + ":" + port + path + "]";
    }
  }

  /** Query options; each is taken once, and any left over is an error naming it. */
  static final class Options {
    private final Map<String, String> values;

    private Options(Map<String, String> values) {
      this.values = values;
    }

    static Options parse(String scheme, String query) {
      Map<String, String> values = new LinkedHashMap<>();
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) continue;
        int eq = pair.indexOf('=');
        String key = kebab(decode(eq < 0 ? pair : pair.substring(0, eq)));
        if (values.containsKey(key)) {
          throw new IllegalArgumentException(scheme + " URL: option " + key + " given twice");
        }
        values.put(key, eq < 0 ? null : decode(pair.substring(eq + 1))); // null: a bare word, without "="
      }
      return new Options(values);
    }

    /** The value of an option, or null; an empty value counts as absent. */
    String take(String key) {
      String v = values.remove(key);
      return v == null || v.isEmpty() ? null : v;
    }

    /** Fails on options nobody took; a bare word is not named: it may be a value (a key) put there. */
    void done(String scheme) {
      if (values.isEmpty()) return;
      String key = values.keySet().iterator().next();
      if (values.get(key) == null) throw new IllegalArgumentException(scheme + " URL: a query part without \"=\"");
      throw new IllegalArgumentException(scheme + " URL: unknown option " + key);
    }

    /** {@code forcePathStyle} → {@code force-path-style}. */
    static String kebab(String key) {
      return key.replaceAll("([a-z0-9])([A-Z])", "$1-$2").replace('_', '-').toLowerCase(Locale.ROOT);
    }
  }

  /** Percent-decoding only: unlike form decoding, {@code +} stays a plus (base64 host keys contain it). */
  static String decode(String s) {
    if (s.indexOf('%') < 0) return s;
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length) {
        int hi = Character.digit(in[i + 1], 16), lo = Character.digit(in[i + 2], 16);
        if (hi >= 0 && lo >= 0) {
          out.write(hi << 4 | lo);
          i += 2;
          continue;
        }
      }
      out.write(in[i]);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
