package dev.strata.replica.sftp;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and how an {@link SftpReplicaClient} reaches its server.
 *
 * @param host the server's host name or address
 * @param port the SSH port (22 by default)
 * @param user the login name
 * @param password password authentication, or null
 * @param keyPath a private key file in OpenSSH (or PEM) format, ed25519 or RSA, for public-key authentication; or
 *     null
 * @param hostKey the server's public key as an OpenSSH line ({@code ssh-ed25519 AAAA…}); or null to look the host
 *     up in {@code knownHosts}
 * @param knownHosts a known_hosts file, consulted when {@code hostKey} is null
 * @param path the absolute remote path of the replica root
 * @param timeout how long to wait for a connection, an authentication or an answer to a request
 */
public record SftpConfig(
    String host,
    int port,
    String user,
    String password,
    Path keyPath,
    String hostKey,
    Path knownHosts,
    String path,
    Duration timeout) {

  /** Default wait for the server. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  public SftpConfig {
    if (host == null || host.isEmpty()) throw new IllegalArgumentException("sftp replica: missing host");
    if (port < 1 || port > 65535) throw new IllegalArgumentException("sftp replica: invalid port " + port);
    if (user == null || user.isEmpty()) throw new IllegalArgumentException("sftp replica: missing user");
    if (password == null && keyPath == null) {
      throw new IllegalArgumentException("sftp replica: set key-path (a private key file) or a password");
    }
    if (hostKey == null && knownHosts == null) {
      throw new IllegalArgumentException("sftp replica: set host-key or known-hosts; the server's host key is "
          + "always verified");
    }
    path = normalizePath(path);
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("sftp replica: timeout must be positive");
    }
  }

  /** {@code sftp://user@host:port/path}: where the replica is, without secrets. */
  public String location() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "sftp://" + user + "@" + h + (port == 22 ? "" : ":" + port) + path;
  }

  /** Hides the password from logs. */
  @Override
  public String toString() {
    return "SftpConfig[" + location() + ", password=" + (password == null ? "none" : "***") + ", keyPath="
        + keyPath + ", hostKey=" + hostKey + ", knownHosts=" + knownHosts + ", timeout=" + timeout + "]";
  }

  /** An absolute path without a trailing slash, {@code .} or {@code ..} segments. */
  private static String normalizePath(String path) {
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("sftp replica: the path must be absolute, not \"" + path + "\"");
    }
    String p = path.replaceAll("/+", "/");
    if (p.length() > 1 && p.endsWith("/")) p = p.substring(0, p.length() - 1);
    for (String segment : p.substring(1).split("/")) {
      if (segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("sftp replica: invalid path \"" + path + "\" (. or .. segment)");
      }
    }
    return p;
  }
}
