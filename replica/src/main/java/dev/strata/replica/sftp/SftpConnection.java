package dev.strata.replica.sftp;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.ClosedChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.common.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SSH session with an SFTP channel, shared by a root client and its children. It connects on first use (never
 * at construction), and when the server has dropped the session it connects again: {@link #call} repeats an
 * operation that failed because the connection was lost once, on the new connection.
 *
 * <p>No keep-alive is sent: an idle replica costs nothing (invariant 4). A session idle for longer than the
 * timeout is closed by the client and reopened by the next operation.
 */
final class SftpConnection implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(SftpConnection.class);

  /** An SFTP operation. */
  interface Operation<T> {
    T run(SftpClient sftp) throws IOException;
  }

  /**
   * AES-GCM first: the JDK runs it on the CPU's AES instructions, several times faster than MINA's own ChaCha20
   * (MINA's first choice); every OpenSSH server since 6.2 offers it. The rest of MINA's list follows as fallback.
   */
  private static final List<NamedFactory<Cipher>> CIPHERS = List.of(BuiltinCiphers.aes128gcm,
      BuiltinCiphers.aes256gcm, BuiltinCiphers.cc20p1305_openssh, BuiltinCiphers.aes128ctr, BuiltinCiphers.aes192ctr,
      BuiltinCiphers.aes256ctr);

  private final SftpConfig config;
  private final HostKeyCheck hostKeys;
  private final KeyPair identity;
  /** Directories known to exist, so that each write does not stat its directory again. */
  final Set<String> knownDirs = ConcurrentHashMap.newKeySet();

  private SshClient ssh;
  private ClientSession session;
  private SftpClient sftp;
  private boolean closed;
  private int connects;

  /** Reads the key file and the expected host keys; connects nothing. */
  SftpConnection(SftpConfig config) {
    this.config = config;
    this.hostKeys = HostKeyCheck.of(config);
    this.identity = config.keyPath() == null ? null : loadKey(config.keyPath());
  }

  SftpConfig config() {
    return config;
  }

  /** How many sessions were opened so far (for tests of reconnection). */
  synchronized int connects() {
    return connects;
  }

  /**
   * Runs {@code op}. If it fails because the connection was lost, reconnects and, when {@code retryable} says so
   * (an upload whose data was already consumed cannot be repeated), runs it once more.
   */
  <T> T call(Operation<T> op, BooleanSupplier retryable) throws IOException {
    SftpClient c = client();
    try {
      return op.run(c);
    } catch (IOException e) {
      if (!connectionLost(c, e)) throw e;
      discard(c);
      if (!retryable.getAsBoolean()) throw lost(e);
    }
    SftpClient again = client();
    try {
      return op.run(again);
    } catch (IOException e) {
      if (!connectionLost(again, e)) throw e;
      discard(again);
      throw lost(e);
    }
  }

  private IOException lost(IOException e) {
    return new IOException("sftp replica: connection to " + config.user() + "@" + config.host() + ":"
        + config.port() + " lost: " + rootMessage(e), e);
  }

  /** Runs {@code op}, reconnecting and repeating it once if the connection was lost. */
  <T> T call(Operation<T> op) throws IOException {
    return call(op, () -> true);
  }

  private static boolean connectionLost(SftpClient c, IOException e) {
    if (e instanceof SftpException) return false; // the server answered
    return e instanceof SshException || e instanceof EOFException || e instanceof ClosedChannelException
        || !c.isOpen() || c.isClosing();
  }

  /** The open SFTP channel, connecting first if there is none or it was closed. */
  synchronized SftpClient client() throws IOException {
    if (closed) throw new IOException("sftp replica " + config.location() + ": client closed");
    if (sftp != null && sftp.isOpen() && !sftp.isClosing() && session.isOpen()) return sftp;
    discardLocked();
    connect();
    return sftp;
  }

  /** Forgets a channel found broken (unless another thread already replaced it). */
  synchronized void discard(SftpClient broken) {
    if (broken == sftp) discardLocked();
  }

  private void discardLocked() {
    if (sftp != null) {
      try {
        sftp.close();
      } catch (IOException ignored) {
        // already broken
      }
    }
    if (session != null) session.close(true);
    sftp = null;
    session = null;
  }

  private void connect() throws IOException {
    if (ssh == null) {
      ssh = SshClient.setUpDefaultClient();
      ssh.setServerKeyVerifier(hostKeys);
      // Only the configured host, port, user and key: no ~/.ssh/config, no default identities.
      ssh.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
      ssh.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
      ssh.setCipherFactories(CIPHERS);
      // Plain host keys only: HostKeyCheck does not verify certificates, and a server that has one also has the
      // plain key, as OpenSSH falls back to when it has no @cert-authority line for the host.
      ssh.setSignatureFactories(ssh.getSignatureFactories().stream()
          .filter(f -> !f.getName().contains("-cert-v01@openssh.com")).toList());
      CoreModuleProperties.IDLE_TIMEOUT.set(ssh, config.timeout());
      // A download keeps window / 64 KiB reads in flight: 8 MiB (MINA's default is 2 MiB) keeps a long pipe full.
      CoreModuleProperties.WINDOW_SIZE.set(ssh, 8L << 20);
      ssh.start();
    }
    String where = config.user() + "@" + config.host() + ":" + config.port();
    ClientSession s = null;
    String stage = "connect to";
    try {
      s = ssh.connect(config.user(), config.host(), config.port()).verify(config.timeout()).getSession();
      if (identity != null) s.addPublicKeyIdentity(identity);
      if (config.password() != null) s.addPasswordIdentity(config.password());
      stage = "authenticate as";
      s.auth().verify(config.timeout());
      stage = "open an SFTP channel on";
      SftpClient c = SftpClientFactory.instance().createSftpClient(s);
      session = s;
      sftp = c;
      connects++;
    } catch (IOException | RuntimeException e) {
      if (s != null) s.close(true);
      String hostKeyFailure = hostKeys.failure();
      if (hostKeyFailure != null) throw new IOException(hostKeyFailure, e);
      if (stage.startsWith("authenticate")) {
        if (identity != null) log.debug("sftp {}: the key refused was read from {}", where, config.keyPath());
        throw new IOException("sftp replica: authentication failed for " + where + " (" + credentials()
            + " refused)", e);
      }
      throw new IOException("sftp replica: cannot " + stage + " " + where + ": " + rootMessage(e), e);
    }
  }

  /** What was offered, by its role: the key file's path goes to the debug log only. */
  private String credentials() {
    if (identity != null && config.password() != null) return "the configured key and password";
    return identity != null ? "the configured key" : "password";
  }

  @Override
  public synchronized void close() {
    closed = true;
    discardLocked();
    if (ssh != null) ssh.stop();
    ssh = null;
  }

  /** Loads an OpenSSH or PEM private key (ed25519, RSA, ECDSA); unencrypted keys only. */
  private static KeyPair loadKey(Path file) {
    if (Files.exists(file) && !Files.isRegularFile(file)) { // never read: a FIFO would block
      throw new IllegalArgumentException("sftp replica: cannot read key file " + file + ": not a regular file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      Iterable<KeyPair> pairs = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()), in,
          FilePasswordProvider.EMPTY);
      Iterator<KeyPair> it = pairs == null ? null : pairs.iterator();
      if (it == null || !it.hasNext()) {
        throw new IllegalArgumentException("sftp replica: no private key in key file " + file);
      }
      return it.next();
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("sftp replica: cannot read key file " + file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException("sftp replica: cannot read key file " + file + ": permission denied");
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage().startsWith("sftp replica")) throw iae;
      throw new IllegalArgumentException("sftp replica: cannot load key file " + file + " (want an unencrypted "
          + "OpenSSH private key): " + rootMessage(e));
    }
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
