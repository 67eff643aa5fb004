package dev.strata.replica.sftp;

import dev.strata.replica.sftp.KnownHosts.Entry;
import dev.strata.replica.sftp.KnownHosts.Marker;
import java.io.IOException;
import java.net.SocketAddress;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * Accepts a server only if it shows one of the host keys configured for it: the {@code host-key} option, or the
 * lines of a known_hosts file naming this host and port. Unlike Litestream, there is no insecure default: an unknown
 * host, a mismatching key or a revoked key is refused, and {@link #failure()} says which, with the type and
 * fingerprint of the key the server offered so that an operator can check it before trusting it.
 *
 * <p>As in OpenSSH, a key marked {@code @revoked} is refused whatever other line lists it; more strictly than
 * OpenSSH, whatever host the {@code @revoked} line names, since a revoked key is compromised wherever it shows up.
 * Host certificates ({@code @cert-authority}) are not supported: such a line vouches for nothing, and the error says
 * so.
 */
final class HostKeyCheck implements ServerKeyVerifier {
  private final String host;
  private final int port;
  /** Where the expected keys come from, for messages: "the host-key option" or the known_hosts file. */
  private final String source;
  /** The lines naming this host (for the host-key option, one line of its own). */
  private final List<Entry> forHost;
  private final List<Entry> revoked;
  private volatile String failure;

  private HostKeyCheck(SftpConfig config, String source, List<Entry> forHost, List<Entry> revoked) {
    this.host = config.host();
    this.port = config.port();
    this.source = source;
    this.forHost = forHost;
    this.revoked = revoked;
  }

  /**
   * Reads the expected keys now (local files only), so that bad configuration fails before any connection. Whether
   * the host is known is decided when it shows its key, so that the error can show that key.
   */
  static HostKeyCheck of(SftpConfig config) {
    if (config.hostKey() != null) {
      PublicKey key;
      try {
        key = PublicKeyEntry.parsePublicKeyEntry(config.hostKey().strip())
            .resolvePublicKey(null, null, PublicKeyEntryResolver.FAILING);
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException("sftp replica: invalid host-key (want an OpenSSH public key line such "
            + "as \"ssh-ed25519 AAAA…\"): " + e.getMessage());
      }
      Entry option = new Entry(0, Marker.NONE, "*", keyType(key), blob(key));
      return new HostKeyCheck(config, "the host-key option", List.of(option), List.of());
    }
    KnownHosts file = KnownHosts.read(config.knownHosts());
    return new HostKeyCheck(config, file.file().toString(), file.naming(config.host(), config.port()),
        file.revoked());
  }

  @Override
  public boolean verifyServerKey(ClientSession session, SocketAddress remote, PublicKey serverKey) {
    String why;
    try {
      why = refusal(serverKey);
    } catch (RuntimeException e) {
      why = "sftp host key for " + host + ":" + port + " cannot be checked (" + e.getMessage() + "); refusing to "
          + "connect";
    }
    failure = why;
    // Refused: hang up now, as ssh does. The session is then already closing when the library handles the
    // refusal, and it does not log it again as a warning next to our own message (failure()).
    if (why != null && session != null) session.close(true);
    return why == null;
  }

  /** Why the server's key is refused, or null when it is accepted. */
  private String refusal(PublicKey serverKey) {
    String hostPort = host + ":" + port;
    byte[] offered = blob(serverKey);
    String shown = keyType(serverKey) + " " + KnownHosts.fingerprint(offered);
    for (Entry e : revoked) {
      if (e.isKey(offered)) {
        return "sftp host key for " + hostPort + " is revoked: the server offered " + shown + ", marked @revoked in "
            + source + " line " + e.line() + "; refusing to connect";
      }
    }
    List<Entry> plain = forHost.stream().filter(e -> e.marker() == Marker.NONE).toList();
    if (plain.stream().anyMatch(e -> e.isKey(offered))) return null;
    if (!plain.isEmpty()) {
      return "sftp host key mismatch for " + hostPort + ": the server offered " + shown + ", not "
          + expected(plain) + "; refusing to connect";
    }
    Entry ca = forHost.stream().filter(e -> e.marker() == Marker.CERT_AUTHORITY).findFirst().orElse(null);
    if (ca != null) {
      return "sftp replica: host " + hostPort + " has only a @cert-authority line in " + source + " (line "
          + ca.line() + "); host certificates are not supported: the server offered " + shown + "; after checking "
          + "it, add the host's own key to " + source + " or set host-key";
    }
    return "sftp replica: host " + hostPort + " is unknown: not in " + source + "; the server offered " + shown
        + " (after checking that fingerprint with the server's administrator, add it, e.g. ssh-keyscan -p " + port + " "
        + host + " >> " + source + ", or set host-key)";
  }

  /** {@code the key in FILE line 3 (ssh-ed25519 SHA256:…)}, or each line's key when several name the host. */
  private String expected(List<Entry> plain) {
    Entry first = plain.getFirst();
    if (plain.size() > 1) {
      return "one of the keys in " + source + " (" + plain.stream().map(e -> "line " + e.line() + ": " + e.shown())
          .collect(Collectors.joining(", ")) + ")";
    }
    return "the key in " + source + (first.line() == 0 ? "" : " line " + first.line()) + " (" + first.shown() + ")";
  }

  /** The key's SSH wire encoding, the blob a known_hosts line holds in base64. */
  private static byte[] blob(PublicKey key) {
    String line = PublicKeyEntry.toString(key);
    return Base64.getDecoder().decode(line.substring(line.indexOf(' ') + 1));
  }

  private static String keyType(PublicKey key) {
    String line = PublicKeyEntry.toString(key);
    return line.substring(0, line.indexOf(' '));
  }

  /** Why the last verification refused the server, or null. */
  String failure() {
    return failure;
  }
}
