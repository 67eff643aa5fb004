package dev.strata.replica.sftp;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * Accepts a server only if it shows one of the host keys configured for it: the {@code host-key} option, or the
 * lines of a known_hosts file naming this host and port. Unlike Litestream, there is no insecure default: an unknown
 * host or a mismatching key is refused, and {@link #failure()} says which.
 */
final class HostKeyCheck implements ServerKeyVerifier {
  private final String hostPort;
  private final String source;
  private final List<PublicKey> accepted;
  private volatile String failure;

  private HostKeyCheck(String hostPort, String source, List<PublicKey> accepted) {
    this.hostPort = hostPort;
    this.source = source;
    this.accepted = accepted;
  }

  /** Reads the expected keys now (local files only), so that bad configuration fails before any connection. */
  static HostKeyCheck of(SftpConfig config) {
    String hostPort = config.host() + ":" + config.port();
    if (config.hostKey() != null) {
      PublicKey key;
      try {
        key = PublicKeyEntry.parsePublicKeyEntry(config.hostKey().strip())
            .resolvePublicKey(null, null, PublicKeyEntryResolver.FAILING);
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException("sftp replica: invalid host-key (want an OpenSSH public key line such "
            + "as \"ssh-ed25519 AAAA…\"): " + e.getMessage());
      }
      return new HostKeyCheck(hostPort, "the host-key option", List.of(key));
    }
    Path file = config.knownHosts();
    List<KnownHostEntry> entries;
    try {
      entries = Files.isRegularFile(file) ? KnownHostEntry.readKnownHostEntries(file) : null;
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("sftp replica: cannot read known-hosts file " + file + ": " + e);
    }
    if (entries == null) {
      throw new IllegalArgumentException("sftp replica: known-hosts file " + file + " does not exist; set host-key "
          + "to the server's public key or add the server to a known_hosts file");
    }
    List<PublicKey> keys = new ArrayList<>();
    for (KnownHostEntry e : entries) {
      if (e.getMarker() != null || !e.isHostMatch(config.host(), config.port())) continue; // @revoked, @cert-authority
      try {
        keys.add(e.getKeyEntry().resolvePublicKey(null, null, PublicKeyEntryResolver.IGNORING));
      } catch (IOException | GeneralSecurityException ignored) {
        // a line with a key type we cannot read cannot vouch for the server
      }
    }
    keys.removeIf(k -> k == null);
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("sftp replica: host " + hostPort + " is unknown: not in " + file
          + " (add it, e.g. ssh-keyscan -p " + config.port() + " " + config.host() + " >> " + file
          + " after checking the key, or set host-key)");
    }
    return new HostKeyCheck(hostPort, file.toString(), List.copyOf(keys));
  }

  @Override
  public boolean verifyServerKey(ClientSession session, SocketAddress remote, PublicKey serverKey) {
    for (PublicKey k : accepted) {
      if (KeyUtils.compareKeys(k, serverKey)) {
        failure = null;
        return true;
      }
    }
    failure = "sftp host key mismatch for " + hostPort + ": the server offered " + KeyUtils.getKeyType(serverKey)
        + " " + KeyUtils.getFingerPrint(serverKey) + ", not the key in " + source + " ("
        + KeyUtils.getFingerPrint(accepted.getFirst()) + "); refusing to connect";
    return false;
  }

  /** Why the last verification refused the server, or null. */
  String failure() {
    return failure;
  }
}
