package dev.strata.server;

import dev.strata.replica.ReplicaClient;
import org.junit.jupiter.api.AfterEach;

/**
 * Restores, timestamp lookups and {@code /db/info} with levels 1–9 in S3, whose listings carry no header fields
 * (each restore point's metadata comes from a HEAD request).
 */
class RestoreS3Test extends RestoreTest {
  private S3Storage s3;

  @Override
  protected ReplicaClient storage() throws Exception {
    s3 = new S3Storage(dir.resolve("s3"));
    return s3.client("backups");
  }

  @AfterEach
  void stopS3() throws Exception {
    if (s3 != null) s3.close();
  }
}
