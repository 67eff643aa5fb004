package dev.strata.replica.s3;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A replica in an S3 bucket (AWS or any S3-compatible server), keys {@code <prefix>/<level>/<min>-<max>.ltx}.
 *
 * <p>Each object carries the LTX header fields as user metadata ({@code page-size}, {@code commit},
 * {@code timestamp}, {@code pre-apply-checksum}, {@code post-apply-checksum}), as litefs-backup writes them, so
 * that {@link #head} answers without a download. A file up to {@link S3Config#partSize()} is one PUT of a buffer
 * the size of the file; a larger one is a multipart upload through one reused part buffer (memory stays at one
 * part whatever the file size), aborted on any failure. Either way the object appears whole or not at all.
 *
 * <p>Every request is retried by the SDK on 5xx, 429/throttling, timeouts and broken connections, with
 * exponential backoff and full jitter, up to {@link S3Config#maxAttempts()} attempts. Nothing is sent until a
 * method is called: building the client opens no connection.
 */
public final class S3ReplicaClient implements ReplicaClient {
  private static final String CONTENT_TYPE = "application/octet-stream";
  private static final int DELETE_BATCH = 1000;
  private static final int MAX_PARTS = 10_000;

  private final S3Config config;
  private final S3Client s3;
  private final SdkHttpClient http; // null in children, which share the root's clients

  /** Builds the SDK client for {@code config}; sends nothing. */
  public S3ReplicaClient(S3Config config) {
    this.config = config;
    this.http = Apache5HttpClient.builder()
        .socketTimeout(config.timeout())
        .connectionTimeout(config.timeout().compareTo(Duration.ofSeconds(10)) < 0 ? config.timeout()
            : Duration.ofSeconds(10))
        // A merge holds one connection per input (up to 32) for its whole length, and the server runs up to 8 at once
        // beside restores and parallel HEADs: a smaller pool starves and stalls them all.
        .maxConnections(320)
        .build();
    var retry = AwsRetryStrategy.standardRetryStrategy().toBuilder()
        .maxAttempts(config.maxAttempts())
        .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(100), Duration.ofSeconds(20)))
        .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(500), Duration.ofSeconds(20)))
        // A backup agent must keep trying each request; the token bucket would fail fast after a burst of errors.
        .circuitBreakerEnabled(false)
        .build();
    var builder = S3Client.builder()
        .httpClient(http)
        .credentialsProvider(credentials(config))
        .forcePathStyle(config.forcePathStyle())
        // Flexible checksums break many S3-compatible servers (Litestream #941); LTX files carry their own CRC-64.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(retry));
    String region = config.region();
    if (region == null) region = System.getenv("AWS_REGION");
    if (region == null) region = System.getenv("AWS_DEFAULT_REGION");
    if (region == null) {
      region = "us-east-1";
      if (config.endpoint() == null) builder.crossRegionAccessEnabled(true);
    }
    builder.region(Region.of(region));
    if (config.endpoint() != null) builder.endpointOverride(config.endpoint());
    this.s3 = builder.build();
  }

  private S3ReplicaClient(S3Config config, S3Client s3) {
    this.config = config;
    this.s3 = s3;
    this.http = null;
  }

  private static AwsCredentialsProvider credentials(S3Config config) {
    if (config.accessKeyId() != null) {
      return StaticCredentialsProvider.create(
          AwsBasicCredentials.create(config.accessKeyId(), config.secretAccessKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  /** The configuration of this root (its prefix included). */
  public S3Config config() {
    return config;
  }

  @Override
  public String type() {
    return "s3";
  }

  @Override
  public String location() {
    return config.location();
  }

  private String rootPrefix() {
    return config.prefix().isEmpty() ? "" : config.prefix() + "/";
  }

  private String levelPrefix(int level) {
    return rootPrefix() + ReplicaClient.checkLevel(level) + "/";
  }

  private String key(int level, TxidRange range) {
    return levelPrefix(level) + range.fileName();
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    return listFilesAfter(level, 0);
  }

  /** One LIST request (per 1000 files returned) starting after the name {@code <afterTxid>-ffffffffffffffff.ltx}. */
  @Override
  public List<LtxFileMeta> listFilesAfter(int level, long afterTxid) throws IOException {
    String prefix = levelPrefix(level);
    List<LtxFileMeta> files = new ArrayList<>();
    try {
      var builder = ListObjectsV2Request.builder().bucket(config.bucket()).prefix(prefix).delimiter("/")
          .overrideConfiguration(o -> o.apiCallAttemptTimeout(SMALL_REQUEST_ATTEMPT));
      if (afterTxid != 0) builder.startAfter(prefix + dev.strata.ltx.Txid.format(afterTxid) + "-ffffffffffffffff.ltx");
      var request = builder.build();
      for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
        for (S3Object o : page.contents()) {
          TxidRange range = LtxFileName.parse(o.key().substring(prefix.length()));
          if (range != null && Long.compareUnsigned(range.min(), afterTxid) > 0) {
            files.add(LtxFileMeta.bare(level, range, o.size(), o.lastModified()));
          }
        }
      }
    } catch (SdkException e) {
      throw failure("LIST", prefix, e);
    }
    files.sort(Comparator.comparing(LtxFileMeta::range));
    return files;
  }

  /**
   * One LIST request per 1000 keys over the span of the root that holds the levels, from {@code 0/} to the end of
   * {@code 9/}: keys come in lexical order, level 0 first, so the listing starts after {@code 0/} and stops at the
   * first key past level 9 (a root that also holds other databases is not read through). Keys in that span that are
   * not level files (a child such as {@code 5x/}, a deeper directory) are skipped, as the per-level listings skip
   * them. Lexical order is what general purpose buckets and S3-compatible servers promise, and what
   * {@link #listFilesAfter}'s start-after relies on too; S3 Express directory buckets do not keep it.
   */
  @Override
  public List<LtxFileMeta> listAllFiles() throws IOException {
    String prefix = rootPrefix();
    String lastLevel = levelPrefix(MAX_LEVEL);
    List<LtxFileMeta> files = new ArrayList<>();
    try {
      var request = ListObjectsV2Request.builder().bucket(config.bucket()).prefix(prefix)
          .startAfter(levelPrefix(0)).overrideConfiguration(o -> o.apiCallAttemptTimeout(SMALL_REQUEST_ATTEMPT))
          .build();
      pages:
      for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
        for (S3Object o : page.contents()) {
          String key = o.key();
          if (key.compareTo(lastLevel) > 0 && !key.startsWith(lastLevel)) break pages; // past level 9
          LtxFileMeta f = levelFile(key.substring(prefix.length()), o);
          if (f != null) files.add(f);
        }
      }
    } catch (SdkException e) {
      throw failure("LIST", prefix, e);
    }
    files.sort(Comparator.comparingInt(LtxFileMeta::level).thenComparing(LtxFileMeta::range));
    return files;
  }

  /** The level file {@code <digit>/<LTX file name>} (a name under the root), or null for any other name. */
  private static LtxFileMeta levelFile(String name, S3Object o) {
    if (name.length() < 2 || name.charAt(1) != '/' || name.charAt(0) < '0' || name.charAt(0) > '9') return null;
    TxidRange range = LtxFileName.parse(name.substring(2));
    return range == null ? null : LtxFileMeta.bare(name.charAt(0) - '0', range, o.size(), o.lastModified());
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    String key = key(level, range);
    HeadObjectResponse r;
    try {
      r = s3.headObject(b -> b.bucket(config.bucket()).key(key)
          .overrideConfiguration(o -> o.apiCallAttemptTimeout(SMALL_REQUEST_ATTEMPT)));
    } catch (SdkException e) {
      throw failure("HEAD", key, e);
    }
    return fromMetadata(level, range, r.contentLength(), r.lastModified(), r.metadata());
  }

  /** Reads the header fields back from user metadata; missing or malformed metadata gives bare metadata. */
  static LtxFileMeta fromMetadata(int level, TxidRange range, long size, Instant created, Map<String, String> m) {
    try {
      return new LtxFileMeta(level, range, size, created, Integer.parseInt(m.get("page-size")),
          Integer.parseUnsignedInt(m.get("commit")), Timestamps.parse(m.get("timestamp")).toEpochMilli(),
          Checksum.parse(m.get("pre-apply-checksum")), Checksum.parse(m.get("post-apply-checksum")));
    } catch (RuntimeException e) {
      return LtxFileMeta.bare(level, range, size, created);
    }
  }

  /** The user metadata stored on every object, in litefs-backup's format. */
  static Map<String, String> metadata(LtxFileInfo info) {
    LtxHeader h = info.header();
    return Map.of(
        "page-size", Integer.toString(h.pageSize()),
        "commit", Integer.toUnsignedString(h.commit()),
        "timestamp", Timestamps.format(h.timestamp()),
        "pre-apply-checksum", Checksum.format(h.preApplyChecksum()),
        "post-apply-checksum", Checksum.format(info.trailer().postApplyChecksum()));
  }

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    if (offset < 0) throw new IllegalArgumentException("negative offset: " + offset);
    String key = key(level, range);
    try {
      ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> {
        b.bucket(config.bucket()).key(key);
        if (offset > 0) b.range("bytes=" + offset + "-");
      });
      return in;
    } catch (S3Exception e) {
      // 416: the object exists but the offset is at or past its end.
      if (e.statusCode() == 416) return InputStream.nullInputStream();
      throw failure("GET", key, e);
    } catch (SdkException e) {
      throw failure("GET", key, e);
    }
  }

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    TxidRange range = new TxidRange(info.header().minTxid(), info.header().maxTxid());
    String key = key(level, range);
    Map<String, String> metadata = metadata(info);
    if (size <= config.partSize()) {
      putSingle(key, metadata, data, size);
    } else {
      putMultipart(key, metadata, data, size);
    }
    return LtxFileMeta.of(level, info, size, Instant.now().truncatedTo(ChronoUnit.MILLIS));
  }

  /**
   * One attempt of a LIST page or a HEAD (a few hundred KiB at most) that has not answered in this time is
   * abandoned and retried, for the same reason as {@link #attemptTimeout}; a batch delete of up to 1000 keys gets
   * longer, since S3 itself takes seconds for one.
   */
  private static final Duration SMALL_REQUEST_ATTEMPT = Duration.ofSeconds(5);
  private static final Duration DELETE_ATTEMPT = Duration.ofSeconds(15);
  /** Every upload attempt may take this long, plus the time its bytes need at {@link #SLOWEST_UPLOAD}. */
  private static final Duration UPLOAD_ATTEMPT_BASE = Duration.ofSeconds(2);
  /** The slowest link an upload is expected to crawl over (0.5 Mbit/s), in bytes per second. */
  private static final long SLOWEST_UPLOAD = 64 * 1024;

  /**
   * How long one attempt to upload {@code bytes} may take before the SDK abandons it and retries. A stalled
   * request is otherwise caught only by the connection's silence timeout (20 s), and a level-0 file of a few KiB
   * that stalls would hold replication that long after the stall is over. Scaled to the size, so that large parts
   * on slow links still finish. (Chosen over a hedged second request, which doubles the cost of every slow PUT,
   * and over progress detection, which the silence timeout already is.)
   */
  static Duration attemptTimeout(long bytes) {
    return UPLOAD_ATTEMPT_BASE.plusMillis(bytes * 1000 / SLOWEST_UPLOAD);
  }

  /** One PUT of the whole file from memory, so that the SDK can resend it on a retry. */
  private void putSingle(String key, Map<String, String> metadata, InputStream data, long size) throws IOException {
    byte[] buf = new byte[(int) size];
    readFully(data, buf, (int) size, key, 0, size);
    checkEnd(data, key, size);
    try {
      s3.putObject(b -> b.bucket(config.bucket()).key(key).metadata(metadata).contentLength(size)
              .overrideConfiguration(o -> o.apiCallAttemptTimeout(attemptTimeout(size))),
          RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf), size, CONTENT_TYPE));
    } catch (SdkException e) {
      throw failure("PUT", key, e);
    }
  }

  /**
   * A multipart upload streamed part by part through one buffer: the object becomes visible only when the upload
   * completes, and any failure aborts the upload so that no parts are left behind.
   */
  private void putMultipart(String key, Map<String, String> metadata, InputStream data, long size)
      throws IOException {
    long partSize = Math.max(config.partSize(), ceilMiB((size + MAX_PARTS - 1) / MAX_PARTS));
    if (partSize > S3Config.MAX_PART_SIZE) {
      throw new IOException("s3 replica " + where(key) + ": " + size + " bytes is too large for one object");
    }
    String uploadId;
    try {
      uploadId = s3.createMultipartUpload(b -> b.bucket(config.bucket()).key(key).metadata(metadata)
          .contentType(CONTENT_TYPE)).uploadId();
    } catch (SdkException e) {
      throw failure("CreateMultipartUpload", key, e);
    }
    try {
      byte[] buf = new byte[(int) Math.min(partSize, size)];
      List<CompletedPart> parts = new ArrayList<>();
      long done = 0;
      for (int partNumber = 1; done < size; partNumber++) {
        int n = (int) Math.min(partSize, size - done);
        readFully(data, buf, n, key, done, size);
        int number = partNumber;
        String etag;
        try {
          etag = s3.uploadPart(b -> b.bucket(config.bucket()).key(key).uploadId(uploadId).partNumber(number)
                  .contentLength((long) n).overrideConfiguration(o -> o.apiCallAttemptTimeout(attemptTimeout(n))),
              RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf, 0, n), n, CONTENT_TYPE)).eTag();
        } catch (SdkException e) {
          throw failure("UploadPart " + number, key, e);
        }
        parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
        done += n;
      }
      checkEnd(data, key, size);
      try {
        s3.completeMultipartUpload(b -> b.bucket(config.bucket()).key(key).uploadId(uploadId)
            .multipartUpload(m -> m.parts(parts)));
      } catch (SdkException e) {
        throw failure("CompleteMultipartUpload", key, e);
      }
    } catch (IOException | RuntimeException | Error e) {
      try {
        s3.abortMultipartUpload(b -> b.bucket(config.bucket()).key(key).uploadId(uploadId));
      } catch (SdkException abort) {
        e.addSuppressed(abort);
      }
      throw e;
    }
  }

  private static long ceilMiB(long n) {
    long mib = 1L << 20;
    return (n + mib - 1) / mib * mib;
  }

  private void readFully(InputStream in, byte[] buf, int n, String key, long done, long size) throws IOException {
    int off = 0;
    while (off < n) {
      int r = in.read(buf, off, n - off);
      if (r < 0) {
        throw new IOException("s3 replica " + where(key) + ": data ended after " + (done + off) + " of " + size
            + " bytes");
      }
      off += r;
    }
  }

  private void checkEnd(InputStream in, String key, long size) throws IOException {
    if (in.read() >= 0) throw new IOException("s3 replica " + where(key) + ": data longer than " + size + " bytes");
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    List<ObjectIdentifier> keys = new ArrayList<>(ranges.size());
    for (TxidRange r : ranges) keys.add(ObjectIdentifier.builder().key(key(level, r)).build());
    for (int i = 0; i < keys.size(); i += DELETE_BATCH) {
      List<ObjectIdentifier> batch = keys.subList(i, Math.min(keys.size(), i + DELETE_BATCH));
      List<S3Error> errors;
      try {
        errors = s3.deleteObjects(b -> b.bucket(config.bucket()).delete(d -> d.objects(batch).quiet(true))
                .overrideConfiguration(o -> o.apiCallAttemptTimeout(DELETE_ATTEMPT)))
            .errors();
      } catch (SdkException e) {
        throw failure("DeleteObjects", levelPrefix(level), e);
      }
      for (S3Error err : errors) {
        if ("NoSuchKey".equals(err.code())) continue;
        if ("AccessDenied".equals(err.code())) throw new IOException("access denied to " + location());
        throw new IOException("s3 replica: delete of " + where(err.key()) + " failed: " + err.code() + " "
            + oneLine(err.message()) + " (" + errors.size() + " of " + batch.size() + " deletes failed)");
      }
    }
  }

  @Override
  public List<String> listChildren() throws IOException {
    String prefix = rootPrefix();
    List<String> names = new ArrayList<>();
    try {
      var request = ListObjectsV2Request.builder().bucket(config.bucket()).prefix(prefix).delimiter("/")
          .overrideConfiguration(o -> o.apiCallAttemptTimeout(SMALL_REQUEST_ATTEMPT)).build();
      for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
        for (CommonPrefix p : page.commonPrefixes()) {
          String name = p.prefix().substring(prefix.length(), p.prefix().length() - 1);
          if (ReplicaClient.isChildName(name)) names.add(name);
        }
      }
    } catch (SdkException e) {
      throw failure("LIST", prefix, e);
    }
    names.sort(null);
    return names;
  }

  @Override
  public List<StoredObject> listObjects() throws IOException {
    String prefix = rootPrefix();
    List<StoredObject> out = new ArrayList<>();
    try {
      var request = ListObjectsV2Request.builder().bucket(config.bucket()).prefix(prefix).delimiter("/")
          .overrideConfiguration(o -> o.apiCallAttemptTimeout(SMALL_REQUEST_ATTEMPT)).build();
      for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
        for (S3Object o : page.contents()) {
          String name = o.key().substring(prefix.length());
          if (ReplicaClient.isChildName(name)) out.add(new StoredObject(name, o.size(), o.lastModified()));
        }
      }
    } catch (SdkException e) {
      throw failure("LIST", prefix, e);
    }
    out.sort(Comparator.comparing(StoredObject::name));
    return out;
  }

  @Override
  public InputStream openObject(String name, long offset) throws IOException {
    if (offset < 0) throw new IllegalArgumentException("negative offset: " + offset);
    String key = rootPrefix() + ReplicaClient.checkChildName(name);
    try {
      return s3.getObject(b -> {
        b.bucket(config.bucket()).key(key);
        if (offset > 0) b.range("bytes=" + offset + "-");
      });
    } catch (S3Exception e) {
      if (e.statusCode() == 416) return InputStream.nullInputStream();
      throw failure("GET", key, e);
    } catch (SdkException e) {
      throw failure("GET", key, e);
    }
  }

  @Override
  public ReplicaClient child(String name) {
    ReplicaClient.checkChildName(name);
    String prefix = config.prefix().isEmpty() ? name : config.prefix() + "/" + name;
    S3Config c = new S3Config(config.bucket(), prefix, config.endpoint(), config.region(), config.forcePathStyle(),
        config.accessKeyId(), config.secretAccessKey(), config.partSize(), config.maxAttempts(), config.timeout());
    return new S3ReplicaClient(c, s3);
  }

  @Override
  public void close() {
    if (http == null) return;
    s3.close();
    http.close();
  }

  private String where(String key) {
    return "s3://" + config.bucket() + "/" + key;
  }

  /** Turns an SDK failure into a one-line IOException naming what failed and where. */
  private IOException failure(String op, String key, SdkException e) {
    Integer n = e.numAttempts();
    String attempts = n != null && n > 1 ? " after " + n + " attempts" : "";
    if (e instanceof S3Exception se) {
      int status = se.statusCode();
      String code = se.awsErrorDetails() == null ? null : se.awsErrorDetails().errorCode();
      if (status == 403) {
        return new IOException("access denied to " + location() + " (" + op + " " + where(key) + ": "
            + (code == null ? "403" : code) + ")", e);
      }
      if ("NoSuchBucket".equals(code)) {
        return new IOException("s3 bucket \"" + config.bucket() + "\" does not exist"
            + (config.endpoint() == null ? "" : " at " + config.endpoint()), e);
      }
      if (status == 404 && !op.equals("LIST")) {
        var missing = new NoSuchFileException(where(key));
        missing.initCause(e);
        return missing;
      }
      return new IOException("s3 replica: " + op + " " + where(key) + " failed" + attempts + ": HTTP " + status
          + (code == null ? "" : " " + code) + (se.awsErrorDetails() == null ? ""
          : " " + oneLine(se.awsErrorDetails().errorMessage())), e);
    }
    String why = e instanceof SdkClientException && e.getCause() != null && e.getCause().getMessage() != null
        ? e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage() : e.getMessage();
    if (why != null && why.contains("Unable to load credentials")) {
      return new IOException("s3 replica " + location() + ": no credentials (set access-key-id and "
          + "secret-access-key in the URL, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", e);
    }
    return new IOException("s3 replica: " + op + " " + where(key) + " failed" + attempts + ": " + oneLine(why), e);
  }

  private static String oneLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).strip();
  }
}
