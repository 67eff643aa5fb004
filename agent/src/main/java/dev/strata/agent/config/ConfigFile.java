package dev.strata.agent.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.DirectorySpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.capture.CaptureOptions;
import dev.strata.replica.level.Level;
import dev.strata.replica.level.LevelConfig;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a configuration file in Litestream's {@code litestream.yml} format, so that a Litestream user can point
 * Strata at their file, plus Strata's own keys ({@code switch-to-wal}, {@code verify-interval}, {@code control}). Unlike Litestream, a key Strata does not
 * know is an error naming the key: Litestream silently ignores unknown keys, and users lost backups that way.
 *
 * <p>Environment variables ({@code ${VAR}}, {@code $VAR}) are expanded over the whole text before parsing unless
 * turned off. Replica entries become URLs for {@link dev.strata.replica.ReplicaUrl}:
 * {@code s3://bucket/path?endpoint=…&region=…&force-path-style=true&access-key-id=…&secret-access-key=…} and
 * {@code sftp://user@host:port/path?key-path=…&host-key=…&password=…}.
 */
public final class ConfigFile {
  private static final Set<String> REPLICA_DEFAULT_KEYS = Set.of("access-key-id", "secret-access-key", "region",
      "endpoint", "force-path-style", "sync-interval", "retention", "snapshot-interval");
  private static final Set<String> TOP_KEYS = union(REPLICA_DEFAULT_KEYS,
      Set.of("dbs", "addr", "exec", "logging", "levels", "snapshot", "shutdown-sync-timeout", "control"));
  private static final Set<String> DB_KEYS = Set.of("path", "dir", "pattern", "recursive", "watch", "meta-path",
      "meta-dir", "replicas", "replica", "monitor-interval", "checkpoint-interval", "min-checkpoint-page-count",
      "busy-timeout", "switch-to-wal", "levels", "snapshot", "verify-interval", "control");
  private static final Set<String> REPLICA_KEYS = union(REPLICA_DEFAULT_KEYS, Set.of("type", "name", "url", "path",
      "bucket", "host", "user", "password", "key-path", "host-key", "age"));
  /** Litestream keys Strata deliberately does not honour, with the reason given in the error. */
  private static final Map<String, String> REFUSED = Map.of(
      "max-checkpoint-page-count", "strata never runs RESTART checkpoints (they block writers, Litestream #724)",
      "truncate-page-n", "strata never runs TRUNCATE checkpoints (they block writers, Litestream #1332)",
      "validation-interval", "validation is not supported; every restore is verified instead");

  private final String source;

  private ConfigFile(String source) {
    this.source = source;
  }

  /** Reads and parses {@code file}; {@code expandEnv} expands environment variables first. */
  public static AgentConfig load(Path file, boolean expandEnv) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("config file " + file + " does not exist");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new IllegalArgumentException("config file " + file + " is not readable (permission denied)");
    } catch (java.nio.charset.MalformedInputException e) {
      throw new IllegalArgumentException("config file " + file + " is not UTF-8 text");
    } catch (IOException e) {
      throw new IllegalArgumentException("config file " + file + " cannot be read: " + e.getMessage());
    }
    return parse(text, file.toString(), expandEnv ? System.getenv() : null);
  }

  /** Parses config text; {@code env} null turns expansion off. */
  public static AgentConfig parse(String text, String source, Map<String, String> env) {
    if (env != null) text = EnvExpander.expand(text, env);
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(text);
    } catch (JsonProcessingException e) {
      String msg = e.getOriginalMessage().replace('\n', ' ');
      var loc = e.getLocation();
      throw new IllegalArgumentException(source + ": invalid YAML" + (loc != null ? " at line " + loc.getLineNr() : "")
          + ": " + msg);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new IllegalArgumentException(source + ": the file is empty");
    }
    ConfigFile f = new ConfigFile(source);
    return f.top(f.new Node(root, ""));
  }

  private AgentConfig top(Node n) {
    n.allow(TOP_KEYS);
    LevelConfig levels = levels(n, LevelConfig.defaults());
    Duration shutdown = n.duration("shutdown-sync-timeout", Duration.ofSeconds(30));
    String logLevel = null;
    Node logging = n.object("logging");
    if (logging != null) {
      logging.allow(Set.of("level", "type", "stderr"));
      logLevel = logging.string("level", null);
      String type = logging.string("type", "text");
      if (!type.equals("text")) throw logging.error("type", "only \"text\" logging is supported");
      logging.bool("stderr", true);
    }
    List<DatabaseSpec> dbs = new ArrayList<>();
    List<DirectorySpec> dirs = new ArrayList<>();
    Set<Path> seen = new HashSet<>();
    for (Node db : n.list("dbs")) {
      Object spec = database(db, n, levels, shutdown);
      if (spec instanceof DatabaseSpec d) {
        if (!seen.add(d.path())) throw db.error("path", "database " + d.path() + " is listed twice");
        dbs.add(d);
      } else {
        dirs.add((DirectorySpec) spec);
      }
    }
    if (dbs.isEmpty() && dirs.isEmpty()) throw n.error("dbs", "no databases configured");
    checkControlSockets(n, dbs, dirs);
    return new AgentConfig(dbs, dirs, n.string("addr", null), n.string("exec", null), logLevel);
  }

  private Object database(Node db, Node top, LevelConfig topLevels, Duration shutdown) {
    db.allow(DB_KEYS);
    String path = db.string("path", null);
    String dir = db.string("dir", null);
    if ((path == null) == (dir == null)) throw db.error(path == null ? "path" : "dir", "give exactly one of path and dir");
    if (dir == null) {
      for (String k : List.of("pattern", "recursive", "watch", "meta-dir")) {
        if (db.has(k)) throw db.error(k, "only valid with dir");
      }
    } else if (db.has("meta-path")) {
      throw db.error("meta-path", "not valid with dir (use meta-dir)");
    } else if (db.has("control")) {
      throw db.error("control", "not valid with dir (databases found in a directory have no control socket; "
          + "use POST /sync on addr:)");
    }
    LevelConfig levels = levels(db, topLevels);
    List<ReplicaSpec> replicas = replicas(db, top, levels);
    Duration sync = replicaSyncInterval(db, top);
    Duration monitor = db.duration("monitor-interval", null);
    if (monitor != null && monitor.compareTo(sync) < 0) sync = monitor;
    CaptureOptions capture = new CaptureOptions(db.duration("busy-timeout", Duration.ofSeconds(1)),
        db.integer("min-checkpoint-page-count", CaptureOptions.DEFAULT_CHECKPOINT_PAGES), db.duration("checkpoint-interval", Duration.ofMinutes(1)),
        db.bool("switch-to-wal", false), Clock.systemUTC(), CaptureOptions.DEFAULT_BACKLOG_FLOOR);
    Duration retryMax = Duration.ofSeconds(30);
    if (dir != null) {
      db.bool("watch", true); // new databases are always picked up
      String meta = db.string("meta-dir", null);
      return new DirectorySpec(absolute(dir), db.string("pattern", null), db.bool("recursive", false),
          meta == null ? null : absolute(meta), replicas, sync, capture, levels, retryMax, shutdown);
    }
    Path p = absolute(path);
    String meta = db.string("meta-path", null);
    return new DatabaseSpec(p.toString(), p, meta == null ? DatabaseSpec.defaultMeta(p) : absolute(meta), replicas,
        sync, capture, levels, retryMax, shutdown, db.duration("verify-interval", null), controlSocket(db, top, p));
  }

  /**
   * The {@code control:} key of a database entry, else the top level's: a socket path, {@code off} (or
   * {@code false}) for none, {@code on} (or {@code true}) for the default {@code .<db>-strata.sock}.
   */
  private static Path controlSocket(Node db, Node top, Path dbPath) {
    Node where = db.has("control") ? db : top;
    String value = where.string("control", "on");
    return switch (value) {
      case "off", "false" -> null;
      case "on", "true" -> DatabaseSpec.defaultControlSocket(dbPath);
      default -> {
        if (value.isBlank()) throw where.error("control", "give a socket path, or off");
        yield absolute(value);
      }
    };
  }

  /**
   * A socket serves one database: a path at the top level needs a config with one database, and two databases
   * cannot share one. Databases found under {@code dir:} get no socket (they are reached over {@code addr:}).
   */
  private static void checkControlSockets(Node top, List<DatabaseSpec> dbs, List<DirectorySpec> dirs) {
    String value = top.string("control", "on");
    boolean path = !List.of("on", "true", "off", "false").contains(value);
    if (path && (dbs.size() != 1 || !dirs.isEmpty())) {
      throw top.error("control", "a socket path at the top level serves one database; with several, give each "
          + "database entry a control: path of its own (or control: off)");
    }
    Map<Path, String> seen = new HashMap<>();
    for (DatabaseSpec d : dbs) {
      if (d.controlSocket() == null) continue;
      String other = seen.putIfAbsent(d.controlSocket(), d.name());
      if (other != null) {
        throw top.error("dbs", "databases " + other + " and " + d.name() + " have the same control socket "
            + d.controlSocket());
      }
    }
  }

  /** The shortest sync interval of the database's replicas (capture runs that often). */
  private static Duration replicaSyncInterval(Node db, Node top) {
    Duration def = top.duration("sync-interval", Duration.ofSeconds(1));
    Duration min = null;
    for (Node r : replicaNodes(db)) {
      Duration d = r.duration("sync-interval", def);
      if (min == null || d.compareTo(min) < 0) min = d;
    }
    if (min == null || min.isZero() || min.isNegative()) return def.isZero() ? Duration.ofSeconds(1) : def;
    return min;
  }

  private static List<Node> replicaNodes(Node db) {
    if (db.has("replica") && db.has("replicas")) throw db.error("replica", "give replica or replicas, not both");
    if (db.has("replica")) return List.of(db.object("replica"));
    return db.list("replicas");
  }

  private List<ReplicaSpec> replicas(Node db, Node top, LevelConfig levels) {
    List<Node> nodes = replicaNodes(db);
    if (nodes.isEmpty()) throw db.error("replicas", "no replica configured");
    List<ReplicaSpec> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Node r : nodes) {
      r.allow(REPLICA_KEYS);
      String url = withAge(replicaUrl(r, top), r);
      String type = url.contains("://") ? url.substring(0, url.indexOf("://")) : "file";
      String name = r.string("name", type);
      for (int i = 2; !names.add(name); i++) name = r.string("name", type) + "-" + i;
      LevelConfig own = levels;
      if (r.has("retention") || r.has("snapshot-interval") || top.has("retention") || top.has("snapshot-interval")) {
        own = levels.withLitestream(r.duration("retention", top.duration("retention", null)),
            r.duration("snapshot-interval", top.duration("snapshot-interval", null)));
      }
      out.add(new ReplicaSpec(name, url, own == levels ? null : own));
    }
    return out;
  }

  /**
   * Adds Litestream 0.3's {@code age: {recipients: [age1…], identities: [/path/key.txt]}} to a replica URL as its
   * {@code age-recipient} and {@code age-identity} options; a plain path becomes a {@code file://} URL to carry them.
   */
  private static String withAge(String url, Node r) {
    Node age = r.object("age");
    if (age == null) return url;
    age.allow(Set.of("recipients", "identities"));
    List<String> recipients = age.strings("recipients");
    List<String> identities = age.strings("identities").stream().map(p -> isInlineIdentity(p)
        ? inlineIdentityFile(p.strip()).toString() : absolute(p).toString()).toList();
    if (recipients.isEmpty() && identities.isEmpty()) {
      throw age.error("recipients", "give recipients (to encrypt) and/or identities (to decrypt)");
    }
    String u = url.contains("://") ? url : absolute(url).toUri().toString().replaceAll("/$", "");
    StringBuilder sb = new StringBuilder(u);
    if (!recipients.isEmpty()) {
      sb.append(sb.indexOf("?") < 0 ? '?' : '&').append("age-recipient=").append(enc(String.join(",", recipients)));
    }
    if (!identities.isEmpty()) {
      sb.append(sb.indexOf("?") < 0 ? '?' : '&').append("age-identity=").append(enc(String.join(",", identities)));
    }
    try {
      new dev.strata.replica.age.AgeKeys(recipients, identities.stream().map(Path::of).toList()).validate();
    } catch (IllegalArgumentException e) {
      throw age.error(recipients.isEmpty() ? "identities" : "recipients", e.getMessage());
    }
    return sb.toString();
  }

  /** True for an identity given as the key itself ({@code AGE-SECRET-KEY-1…}), as Litestream 0.3's config has it. */
  private static boolean isInlineIdentity(String s) {
    return s.strip().startsWith("AGE-SECRET-KEY-1");
  }

  /**
   * A key given inline in the config file (Litestream 0.3 puts the secret keys there) is handed on as an identity
   * file: written once per process, readable by its owner only, in a private temporary directory removed at exit.
   */
  private static synchronized Path inlineIdentityFile(String key) {
    try {
      if (inlineKeys == null) {
        inlineKeys = java.nio.file.Files.createTempDirectory("strata-age-",
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        inlineKeys.toFile().deleteOnExit();
      }
      String name = "key-" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)), 0, 8) + ".txt";
      Path file = inlineKeys.resolve(name);
      if (!java.nio.file.Files.exists(file)) {
        java.nio.file.Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        java.nio.file.Files.writeString(file, key + "\n");
        file.toFile().deleteOnExit();
      }
      return file;
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot keep an inline age identity: " + e.getMessage(), e);
    }
  }

  private static Path inlineKeys;

  /** Builds the URL of a replica entry from {@code url}/{@code path}/{@code type} and the backend keys. */
  private static String replicaUrl(Node r, Node top) {
    String url = r.string("url", null);
    String path = r.string("path", null);
    if (url != null && path != null && !url.contains("://")) throw r.error("path", "give url or path, not both");
    String type = r.string("type", null);
    if (type == null) {
      if (url != null && url.contains("://")) type = url.substring(0, url.indexOf("://"));
      else if (r.has("bucket")) type = "s3";
      else if (r.has("host")) type = "sftp";
      else type = "file";
    }
    Map<String, String> params = new LinkedHashMap<>();
    switch (type) {
      case "file" -> {
        String p = url != null ? url : path;
        if (p == null || p.isBlank()) throw r.error("path", "a file replica needs a path");
        return p.startsWith("file://") ? p : absolute(p).toString();
      }
      case "s3" -> {
        if (url == null) {
          String bucket = r.string("bucket", null);
          if (bucket == null) throw r.error("bucket", "an s3 replica needs a url or a bucket");
          url = "s3://" + bucket + "/" + trimSlashes(path == null ? "" : path);
        }
        for (String k : List.of("endpoint", "region", "access-key-id", "secret-access-key")) {
          String v = r.string(k, top.string(k, null));
          if (v != null && !v.isEmpty()) params.put(k, v);
        }
        if (r.bool("force-path-style", top.bool("force-path-style", false))) params.put("force-path-style", "true");
      }
      case "sftp" -> {
        if (url == null) {
          String host = r.string("host", null);
          if (host == null) throw r.error("host", "an sftp replica needs a url or a host");
          String user = r.string("user", null);
          url = "sftp://" + (user == null ? "" : enc(user) + "@") + host + "/" + trimSlashes(path == null ? "" : path);
        }
        for (String k : List.of("key-path", "host-key", "password")) {
          String v = r.string(k, null);
          if (v != null && !v.isEmpty()) params.put(k, v);
        }
      }
      default -> throw r.error("type", "replica type \"" + type + "\" is not supported (file, s3, sftp)");
    }
    if (!url.startsWith(type + "://")) throw r.error("url", "url " + url + " does not match type " + type);
    StringBuilder sb = new StringBuilder(url);
    for (var e : params.entrySet()) {
      if (url.contains("?" + e.getKey() + "=") || url.contains("&" + e.getKey() + "=")) continue;
      sb.append(sb.indexOf("?") < 0 ? '?' : '&').append(e.getKey()).append('=').append(enc(e.getValue()));
    }
    return sb.toString();
  }

  /** The {@code levels:} (levels 1..n; level 0 is implicit) and {@code snapshot:} keys over {@code defaults}. */
  private LevelConfig levels(Node n, LevelConfig defaults) {
    LevelConfig out = defaults;
    if (n.has("levels")) {
      List<Level> levels = new ArrayList<>(List.of(defaults.level(0)));
      for (Node l : n.list("levels")) {
        l.allow(Set.of("interval", "retention"));
        int number = levels.size();
        Duration retention = number <= defaults.topLevel() ? defaults.level(number).retention() : Duration.ofDays(30);
        Duration interval = l.duration("interval", null);
        if (interval == null) throw l.error("interval", "each level needs an interval");
        levels.add(new Level(number, interval, l.duration("retention", retention)));
      }
      if (levels.size() > Level.SNAPSHOT) throw n.error("levels", "at most 8 compaction levels (level 9 holds snapshots)");
      out = new LevelConfig(levels, out.snapshotInterval(), out.snapshotRetention());
    }
    Node snap = n.object("snapshot");
    if (snap != null) {
      snap.allow(Set.of("interval", "retention"));
      out = new LevelConfig(out.levels(), snap.duration("interval", out.snapshotInterval()),
          snap.duration("retention", out.snapshotRetention()));
    }
    return out;
  }

  private static Path absolute(String p) {
    String s = p;
    if (s.startsWith("sqlite3://")) s = s.substring("sqlite3://".length());
    else if (s.startsWith("sqlite://")) s = s.substring("sqlite://".length());
    if (s.equals("~") || s.startsWith("~/")) s = System.getProperty("user.home") + s.substring(1);
    return Path.of(s).toAbsolutePath().normalize();
  }

  private static String trimSlashes(String s) {
    int a = 0, b = s.length();
    while (a < b && s.charAt(a) == '/') a++;
    while (b > a && s.charAt(b - 1) == '/') b--;
    return s.substring(a, b);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> s = new HashSet<>(a);
    s.addAll(b);
    return Set.copyOf(s);
  }

  /** A YAML mapping with its place in the file, for errors that say where. */
  private final class Node {
    private final JsonNode node;
    private final String where;

    Node(JsonNode node, String where) {
      this.node = node;
      this.where = where;
    }

    IllegalArgumentException error(String key, String message) {
      String at = where.isEmpty() ? key : where + "." + key;
      return new IllegalArgumentException(source + ": " + at + ": " + message);
    }

    void allow(Set<String> keys) {
      if (!node.isObject()) {
        throw new IllegalArgumentException(source + ": " + (where.isEmpty() ? "top level" : where)
            + ": expected a mapping of keys");
      }
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (keys.contains(k)) continue;
        String why = REFUSED.get(k);
        throw error(k, why != null ? "key not supported: " + why : "unknown key \"" + k + "\"");
      }
    }

    boolean has(String key) {
      return node.has(key) && !node.get(key).isNull();
    }

    String string(String key, String def) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) return def;
      if (!v.isValueNode()) throw error(key, "expected a value");
      return v.asText();
    }

    boolean bool(String key, boolean def) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) return def;
      if (v.isBoolean()) return v.booleanValue();
      String s = v.asText();
      if (s.equals("true")) return true;
      if (s.equals("false")) return false;
      throw error(key, "expected true or false, got \"" + s + "\"");
    }

    int integer(String key, int def) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) return def;
      if (v.canConvertToInt() && v.isIntegralNumber()) return v.intValue();
      try {
        return Integer.parseInt(v.asText());
      } catch (NumberFormatException e) {
        throw error(key, "expected a whole number, got \"" + v.asText() + "\"");
      }
    }

    Duration duration(String key, Duration def) {
      String s = string(key, null);
      if (s == null) return def;
      try {
        return Durations.parse(s);
      } catch (IllegalArgumentException e) {
        throw error(key, e.getMessage());
      }
    }

    Node object(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) return null;
      if (!v.isObject()) throw error(key, "expected a mapping of keys");
      return new Node(v, where.isEmpty() ? key : where + "." + key);
    }

    /** A list of values; a single value counts as a list of one. */
    List<String> strings(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) return List.of();
      if (v.isValueNode()) return List.of(v.asText());
      if (!v.isArray()) throw error(key, "expected a list");
      List<String> out = new ArrayList<>();
      for (JsonNode e : v) {
        if (!e.isValueNode()) throw error(key, "expected a list of values");
        if (!e.asText().isBlank()) out.add(e.asText().strip());
      }
      return out;
    }

    List<Node> list(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) return List.of();
      if (!v.isArray()) throw error(key, "expected a list");
      List<Node> out = new ArrayList<>();
      for (int i = 0; i < v.size(); i++) {
        String at = (where.isEmpty() ? key : where + "." + key) + "[" + i + "]";
        if (!v.get(i).isObject()) throw new IllegalArgumentException(source + ": " + at + ": expected a mapping");
        out.add(new Node(v.get(i), at));
      }
      return out;
    }
  }
}
