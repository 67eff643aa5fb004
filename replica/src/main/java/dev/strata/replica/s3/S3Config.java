package dev.strata.replica.s3;

import java.net.URI;
import java.time.Duration;

/**
 * Where and how an {@link S3ReplicaClient} reaches its bucket.
 *
 * @param bucket the bucket name
 * @param prefix the key prefix of the replica root, without leading or trailing slash ("" for the bucket root)
 * @param endpoint a custom endpoint such as {@code http://127.0.0.1:9000}, or null for AWS
 * @param region the signing region, or null to take {@code AWS_REGION}/{@code AWS_DEFAULT_REGION} (else us-east-1)
 *     and follow the bucket's region on redirects
 * @param forcePathStyle {@code http://host/bucket/key} instead of {@code http://bucket.host/key}
 * @param accessKeyId with {@code secretAccessKey}: fixed credentials; both null: the SDK's default chain
 *     (environment, system properties, profile, container, instance metadata)
 * @param partSize uploads up to this size are one PUT; larger ones are multipart uploads of parts this size
 * @param maxAttempts attempts per request, the first included (retries use exponential backoff with full jitter)
 * @param timeout how long a connection may stay silent (connect, or between bytes) before the attempt fails
 */
public record S3Config(
    String bucket,
    String prefix,
    URI endpoint,
    String region,
    boolean forcePathStyle,
    String accessKeyId,
    String secretAccessKey,
    long partSize,
    int maxAttempts,
    Duration timeout) {

  /** Default part size and single-PUT threshold: 16 MiB. */
  public static final long DEFAULT_PART_SIZE = 16L << 20;
  /** S3's smallest part size (all parts but the last). */
  public static final long MIN_PART_SIZE = 5L << 20;
  /** The largest part size here: a part is one buffer in memory (S3 itself allows 5 GiB). */
  public static final long MAX_PART_SIZE = 1L << 30;
  /** Default attempts per request. */
  public static final int DEFAULT_MAX_ATTEMPTS = 6;
  /**
   * Default silence allowed on a connection: below the agent's 30-s shutdown timeout, so that an upload stalled on
   * a dead connection is retried on a new one before a stop gives up (S3 answers within a second or keeps the
   * connection alive).
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

  public S3Config {
    if (bucket == null || bucket.isEmpty()) throw new IllegalArgumentException("s3 replica: missing bucket");
    if (!bucket.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("s3 replica: invalid bucket name \"" + bucket + "\"");
    }
    prefix = normalizePrefix(prefix);
    if ((accessKeyId == null) != (secretAccessKey == null)) {
      throw new IllegalArgumentException("s3 replica: access-key-id and secret-access-key go together; "
          + "set both or neither");
    }
    if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw new IllegalArgumentException("s3 replica: part-size must be between 5 MiB and 1 GiB, not " + partSize);
    }
    if (maxAttempts < 1 || maxAttempts > 100) {
      throw new IllegalArgumentException("s3 replica: max-attempts must be between 1 and 100, not " + maxAttempts);
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("s3 replica: timeout must be positive");
    }
  }

  /** A bucket and prefix on AWS with default settings. */
  public static S3Config of(String bucket, String prefix) {
    return new S3Config(bucket, prefix, null, null, false, null, null, DEFAULT_PART_SIZE, DEFAULT_MAX_ATTEMPTS,
        DEFAULT_TIMEOUT);
  }

  /** This configuration with a custom endpoint (path-style addressing, as S3-compatible servers expect). */
  public S3Config withEndpoint(URI newEndpoint, String newRegion) {
    return new S3Config(bucket, prefix, newEndpoint, newRegion, true, accessKeyId, secretAccessKey, partSize,
        maxAttempts, timeout);
  }

  /** This configuration with fixed credentials. */
  public S3Config withCredentials(String newAccessKeyId, String newSecretAccessKey) {
    return new S3Config(bucket, prefix, endpoint, region, forcePathStyle, newAccessKeyId, newSecretAccessKey,
        partSize, maxAttempts, timeout);
  }

  /** This configuration with other upload and retry settings. */
  public S3Config withLimits(long newPartSize, int newMaxAttempts, Duration newTimeout) {
    return new S3Config(bucket, prefix, endpoint, region, forcePathStyle, accessKeyId, secretAccessKey,
        newPartSize, newMaxAttempts, newTimeout);
  }

  /** {@code s3://bucket/prefix}: where the replica is, without endpoint or secrets. */
  public String location() {
    return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
  }

  /** Hides the secret key from logs. */
  @Override
  public String toString() {
    return "S3Config[" + location() + (endpoint == null ? "" : " at " + endpoint) + ", region=" + region
        + ", forcePathStyle=" + forcePathStyle + ", accessKeyId=" + accessKeyId + ", partSize=" + partSize
        + ", maxAttempts=" + maxAttempts + ", timeout=" + timeout + "]";
  }

  /** Strips slashes at both ends and refuses {@code .} and {@code ..} segments, which S3 keeps literally. */
  private static String normalizePrefix(String prefix) {
    if (prefix == null) return "";
    String p = prefix.replaceAll("^/+|/+$", "");
    if (p.isEmpty()) return p;
    for (String segment : p.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("s3 replica: invalid path \"" + prefix + "\" (empty, . or .. segment)");
      }
    }
    return p;
  }
}
