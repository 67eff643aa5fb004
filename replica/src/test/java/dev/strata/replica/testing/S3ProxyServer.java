package dev.strata.replica.testing;

import dev.strata.replica.s3.S3Config;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

/**
 * S3Proxy started in this JVM on a random loopback port: the real S3 protocol over HTTP, requests signed (V2 or V4)
 * with {@link #ACCESS_KEY}/{@link #SECRET_KEY}, one bucket {@link #BUCKET} created.
 *
 * <p>Use: {@code try (var s3 = S3ProxyServer.start()) { ReplicaClient c = ReplicaUrl.open(s3.url("db")); … }}.
 * {@link #start()} keeps objects in memory (fast, for small tests); {@link #start(Path)} keeps them in a directory
 * (for large files and benchmarks). To inject faults, put a {@link FaultProxy} in front and use
 * {@link #url(String, int)} with the proxy's port.
 */
public final class S3ProxyServer implements AutoCloseable {
  /** The access key id S3Proxy accepts. */
  public static final String ACCESS_KEY = "strata-test-access";
  /** The secret key S3Proxy accepts. */
  public static final String SECRET_KEY = "strata-test-secret";
  /** The bucket created at start. */
  public static final String BUCKET = "strata";

  private final S3Proxy proxy;
  private final BlobStore store;

  private S3ProxyServer(S3Proxy proxy, BlobStore store) {
    this.proxy = proxy;
    this.store = store;
  }

  /** Starts S3Proxy with an in-memory blob store. */
  public static S3ProxyServer start() throws Exception {
    return start(new TransientNio2BlobStore());
  }

  /** Starts S3Proxy storing objects under {@code dir} (created if needed). */
  public static S3ProxyServer start(Path dir) throws Exception {
    java.nio.file.Files.createDirectories(dir);
    return start(new FilesystemNio2BlobStore(dir.toAbsolutePath().toString()));
  }

  private static S3ProxyServer start(BlobStore store) throws Exception {
    if (!store.containerExists(BUCKET)) store.createContainer(BUCKET); // a reused directory keeps it
    S3Proxy proxy = S3Proxy.builder()
        .blobStore(store)
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .endpoint(URI.create("http://127.0.0.1:0"))
        .ignoreUnknownHeaders(true)
        .build();
    proxy.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("S3Proxy did not start");
      Thread.sleep(10);
    }
    return new S3ProxyServer(proxy, store);
  }

  /** The loopback port S3Proxy listens on. */
  public int port() {
    return proxy.getPort();
  }

  /** {@code http://127.0.0.1:<port>}. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port());
  }

  /** The blob store behind S3Proxy, to look at objects and multipart uploads without going through HTTP. */
  public BlobStore blobStore() {
    return store;
  }

  /** A replica URL for {@code prefix} in the test bucket, with endpoint, region, path style and credentials. */
  public String url(String prefix) {
    return url(prefix, port());
  }

  /** Like {@link #url(String)} but through another port on 127.0.0.1 (a {@link FaultProxy} in front). */
  public String url(String prefix, int port) {
    return "s3://" + BUCKET + "/" + prefix + "?endpoint=http://127.0.0.1:" + port
        + "&region=us-east-1&force-path-style=true&access-key-id=" + ACCESS_KEY + "&secret-access-key=" + SECRET_KEY;
  }

  /** The client configuration {@link #url(String)} gives. */
  public S3Config config(String prefix) {
    return config(prefix, port());
  }

  /** The client configuration {@link #url(String, int)} gives. */
  public S3Config config(String prefix, int port) {
    return S3Config.of(BUCKET, prefix).withEndpoint(URI.create("http://127.0.0.1:" + port), "us-east-1")
        .withCredentials(ACCESS_KEY, SECRET_KEY);
  }

  @Override
  public void close() throws IOException {
    try {
      proxy.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while stopping S3Proxy");
    } catch (Exception e) {
      throw new IOException("cannot stop S3Proxy", e);
    } finally {
      store.close();
    }
  }
}
