package dev.strata.replica.sftp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An OpenSSH known_hosts file, read as ssh(1) reads it (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): each line is
 * {@code [@marker] hosts key-type base64-key [comment]}, where hosts is either comma-separated patterns ({@code *},
 * {@code ?}, a leading {@code !} to negate) or one hashed name {@code |1|salt|hash}, and a host on a port other than
 * 22 is looked up as {@code [host]:port}.
 *
 * <p>Stricter than ssh in two ways, both so that nothing is accepted by mistake: a line that cannot be read is an
 * error (ssh skips it; it might be a revocation), and so is an unknown marker (a misspelt {@code @revoked} would
 * otherwise revoke nothing).
 */
final class KnownHosts {
  enum Marker { NONE, REVOKED, CERT_AUTHORITY }

  /**
   * One line of the file.
   *
   * @param line its number in the file, from 1
   * @param hosts the host field as written
   * @param key the public key blob (the base64 field, decoded)
   */
  record Entry(int line, Marker marker, String hosts, String keyType, byte[] key) {
    /** Whether this line names {@code lookupName} ({@link #lookupName}), as ssh matches it. */
    boolean names(String lookupName) {
      if (hosts.startsWith("|")) return HashedName.parse(hosts).matches(lookupName);
      boolean named = false;
      for (String pattern : hosts.split(",")) {
        boolean negated = pattern.startsWith("!");
        if (!glob(negated ? pattern.substring(1) : pattern, lookupName)) continue;
        if (negated) return false; // a matching negation drops the line, whatever else on it matches
        named = true;
      }
      return named;
    }

    boolean isKey(byte[] blob) {
      return Arrays.equals(key, blob);
    }

    /** {@code ssh-ed25519 SHA256:…}, as ssh-keygen -l shows a key. */
    String shown() {
      return keyType + " " + fingerprint(key);
    }
  }

  private final Path file;
  private final List<Entry> entries;

  private KnownHosts(Path file, List<Entry> entries) {
    this.file = file;
    this.entries = entries;
  }

  /** Reads and checks every line; a missing or unreadable file, or an unreadable line, is an error. */
  static KnownHosts read(Path file) {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException("sftp replica: known-hosts file " + file + " does not exist; set host-key "
          + "to the server's public key or add the server to a known_hosts file");
    }
    if (!Files.isRegularFile(file)) { // never read: a FIFO would block
      throw new IllegalArgumentException("sftp replica: known-hosts file " + file + " is not a regular file");
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("sftp replica: cannot read known-hosts file " + file + ": " + e);
    }
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      try {
        entries.add(parse(i + 1, line));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("sftp replica: known-hosts file " + file + " line " + (i + 1) + ": "
            + e.getMessage());
      }
    }
    return new KnownHosts(file, List.copyOf(entries));
  }

  private static Entry parse(int number, String line) {
    List<String> fields = new ArrayList<>(Arrays.asList(line.split("\\s+")));
    Marker marker = Marker.NONE;
    if (fields.getFirst().startsWith("@")) {
      String name = fields.removeFirst();
      marker = switch (name) {
        case "@revoked" -> Marker.REVOKED;
        case "@cert-authority" -> Marker.CERT_AUTHORITY;
        default -> throw new IllegalArgumentException("unknown marker " + name + " (want @revoked or "
            + "@cert-authority)");
      };
    }
    if (fields.size() < 3) throw new IllegalArgumentException("want [@marker] hosts key-type key");
    String hosts = fields.get(0);
    if (hosts.startsWith("|")) HashedName.parse(hosts); // fails now rather than at the first connection
    byte[] key;
    try {
      key = Base64.getDecoder().decode(fields.get(2));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the key is not base64 (" + e.getMessage() + ")");
    }
    return new Entry(number, marker, hosts, fields.get(1), key);
  }

  /** The name ssh looks up: the host in lower case, and {@code [host]:port} for a port other than 22. */
  static String lookupName(String host, int port) {
    String h = host.toLowerCase(Locale.ROOT);
    return port == 22 ? h : "[" + h + "]:" + port;
  }

  Path file() {
    return file;
  }

  /** The lines naming this host and port, of every marker. */
  List<Entry> naming(String host, int port) {
    String name = lookupName(host, port);
    return entries.stream().filter(e -> e.names(name)).toList();
  }

  /** The @revoked lines, whatever hosts they name. */
  List<Entry> revoked() {
    return entries.stream().filter(e -> e.marker() == Marker.REVOKED).toList();
  }

  /** OpenSSH's fingerprint of a key blob: {@code SHA256:} and the digest in base64 without padding. */
  static String fingerprint(byte[] blob) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e); // every JDK has SHA-256
    }
  }

  /** ssh's host patterns: {@code *} is any run of characters, {@code ?} one character; case does not matter. */
  private static boolean glob(String pattern, String name) {
    StringBuilder regex = new StringBuilder();
    for (char c : pattern.toLowerCase(Locale.ROOT).toCharArray()) {
      regex.append(switch (c) {
        case '*' -> ".*";
        case '?' -> ".";
        default -> Pattern.quote(String.valueOf(c));
      });
    }
    return Pattern.matches(regex.toString(), name);
  }

  /** A hashed host name, {@code |1|base64(salt)|base64(HMAC-SHA1(salt, name))}, as ssh-keygen -H writes it. */
  private record HashedName(byte[] salt, byte[] hash) {
    static HashedName parse(String field) {
      String[] parts = field.split("\\|", -1);
      try {
        if (parts.length == 4 && parts[0].isEmpty() && parts[1].equals("1")) {
          HashedName h = new HashedName(Base64.getDecoder().decode(parts[2]), Base64.getDecoder().decode(parts[3]));
          if (h.salt.length > 0 && h.hash.length > 0) return h;
        }
      } catch (IllegalArgumentException e) {
        // not base64: refused below
      }
      throw new IllegalArgumentException("invalid hashed host name (want |1|salt|hash)");
    }

    boolean matches(String name) {
      try {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(salt, "HmacSHA1"));
        return MessageDigest.isEqual(hash, mac.doFinal(name.getBytes(StandardCharsets.UTF_8)));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e); // every JDK has HmacSHA1
      }
    }
  }
}
