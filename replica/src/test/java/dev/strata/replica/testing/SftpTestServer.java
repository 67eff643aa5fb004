package dev.strata.replica.testing;

import dev.strata.replica.sftp.SftpConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.SftpEventListener;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * An SFTP server (Apache MINA SSHD) started in this JVM on a random loopback port, serving one directory as the
 * root of a virtual file system the client cannot leave ({@code /..} is {@code /}).
 *
 * <p>Each server has its own ed25519 host key ({@link #hostKeyLine()}) and accepts user {@link #USER} with a
 * generated ed25519 client key written to a temporary file ({@link #clientKey()}); {@link #addClientKey(String)}
 * authorizes another key type (RSA), {@link #setPassword(String)} enables password login. {@link #url(String)} gives
 * a replica URL with {@code key-path} and {@code host-key}, ready for {@code ReplicaUrl.open}.
 *
 * <p>For fault tests, {@link #dropAllSessions()} closes every session at once, {@link #dropOnNextRequest(int)}
 * closes the session that sends the next request of a given SFTP type instead of answering it, and
 * {@link #stallOnNextRequest(int)} never answers it. {@link #requestsReceived()} counts SFTP requests.
 */
public final class SftpTestServer implements AutoCloseable {
  /** The user name the server accepts. */
  public static final String USER = "strata";

  private final SshServer server;
  private final Path root;
  private final Path keyDir;
  private final KeyPair hostKey;
  private final Path clientKey;
  private final Set<PublicKey> authorized = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sessionsOpened = new AtomicInteger();
  private final AtomicLong requests = new AtomicLong();
  private final List<Integer> dropOn = new CopyOnWriteArrayList<>();
  private final List<Integer> stallOn = new CopyOnWriteArrayList<>();
  private volatile String password;

  private SftpTestServer(Path root) throws IOException, GeneralSecurityException {
    this.root = root;
    this.keyDir = Files.createTempDirectory("strata-sftp-keys");
    this.hostKey = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    this.clientKey = addClientKey(KeyPairProvider.SSH_ED25519);
    server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(0);
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    server.setPublickeyAuthenticator((user, key, session) -> USER.equals(user)
        && authorized.stream().anyMatch(k -> KeyUtils.compareKeys(k, key)));
    server.setPasswordAuthenticator((user, pw, session) -> USER.equals(user) && pw.equals(password));
    server.setFileSystemFactory(new VirtualFileSystemFactory(root));
    SftpSubsystemFactory sftp = new SftpSubsystemFactory();
    sftp.addSftpEventListener(new SftpEventListener() {
      @Override
      public void received(ServerSession session, int type, int id) throws IOException {
        requests.incrementAndGet();
        for (Integer t : stallOn) {
          if ((t == 0 || t == type) && stallOn.remove(t)) {
            // Hold this session's request thread until the client gives up on it and closes the session.
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (session.isOpen() && System.nanoTime() < deadline) {
              try {
                Thread.sleep(20);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
              }
            }
            throw new IOException("request stalled by SftpTestServer");
          }
        }
        for (Integer t : dropOn) {
          if ((t == 0 || t == type) && dropOn.remove(t)) {
            session.close(true);
            throw new IOException("session dropped by SftpTestServer");
          }
        }
      }
    });
    server.setSubsystemFactories(List.of(sftp));
    server.addSessionListener(new SessionListener() {
      @Override
      public void sessionCreated(Session session) {
        sessionsOpened.incrementAndGet();
      }
    });
  }

  /** Starts a server whose virtual root is {@code root} (created if needed). */
  public static SftpTestServer start(Path root) throws IOException, GeneralSecurityException {
    Files.createDirectories(root);
    SftpTestServer s = new SftpTestServer(root);
    s.server.start();
    return s;
  }

  /** The directory served as {@code /}. */
  public Path root() {
    return root;
  }

  /** The loopback port. */
  public int port() {
    return server.getPort();
  }

  /** The server's public host key as an OpenSSH line, {@code ssh-ed25519 AAAA…}. */
  public String hostKeyLine() {
    return PublicKeyEntry.toString(hostKey.getPublic());
  }

  /** A known_hosts line for this server ({@code [127.0.0.1]:port ssh-ed25519 AAAA…}). */
  public String knownHostsLine() {
    return "[127.0.0.1]:" + port() + " " + hostKeyLine();
  }

  /** The ed25519 private key file (OpenSSH format) the server accepts. */
  public Path clientKey() {
    return clientKey;
  }

  /**
   * Generates a client key of the given type ({@code ssh-ed25519}, {@code ssh-rsa}), writes its private half to a
   * temporary file in OpenSSH format and authorizes it; returns the file.
   */
  public Path addClientKey(String type) throws IOException, GeneralSecurityException {
    KeyPair pair = KeyUtils.generateKeyPair(type, type.equals(KeyPairProvider.SSH_RSA) ? 2048 : 256);
    Path file = Files.createTempFile(keyDir, "id-", "");
    try (OutputStream out = Files.newOutputStream(file)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, "strata-test", null, out);
    }
    authorized.add(pair.getPublic());
    return file;
  }

  /** Accepts {@code password} for {@link #USER} (null: password login refused). */
  public void setPassword(String password) {
    this.password = password;
  }

  /** Sessions opened so far. */
  public int sessionsOpened() {
    return sessionsOpened.get();
  }

  /** SFTP requests received so far (every packet type: open, write, close, rename, readdir…). */
  public long requestsReceived() {
    return requests.get();
  }

  /** Closes every open session at once, as a server restart or a network cut would. */
  public void dropAllSessions() {
    for (var s : server.getActiveSessions()) s.close(true);
  }

  /**
   * Closes the session that sends the next request of SFTP packet type {@code type} ({@code SftpConstants.SSH_FXP_*},
   * 0 for any) before it is carried out.
   */
  public void dropOnNextRequest(int type) {
    dropOn.add(type);
  }

  /**
   * Leaves the next request of SFTP packet type {@code type} (0 for any) unanswered until the client closes its
   * session (at most a minute).
   */
  public void stallOnNextRequest(int type) {
    stallOn.add(type);
  }

  /** A replica URL for {@code path} with key-path and host-key options. */
  public String url(String path) {
    return url(path, clientKey);
  }

  /** A replica URL for {@code path} logging in with {@code key}. */
  public String url(String path, Path key) {
    return "sftp://" + USER + "@127.0.0.1:" + port() + (path.startsWith("/") ? path : "/" + path)
        + "?key-path=" + URLEncoder.encode(key.toString(), StandardCharsets.UTF_8).replace("+", "%20")
        + "&host-key=" + URLEncoder.encode(hostKeyLine(), StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The client configuration {@link #url(String)} gives. */
  public SftpConfig config(String path) {
    return new SftpConfig("127.0.0.1", port(), USER, null, clientKey, hostKeyLine(), null,
        path.startsWith("/") ? path : "/" + path, SftpConfig.DEFAULT_TIMEOUT);
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
    try (var files = Files.list(keyDir)) {
      for (Path p : files.toList()) Files.deleteIfExists(p);
    }
    Files.deleteIfExists(keyDir);
  }
}
