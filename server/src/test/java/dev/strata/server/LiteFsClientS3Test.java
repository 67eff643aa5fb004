package dev.strata.server;

import dev.strata.replica.ReplicaClient;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;

/** The LiteFS client scenarios with levels 1–9 in S3 (S3Proxy on loopback). */
class LiteFsClientS3Test extends LiteFsClientTest {
  private S3Storage s3;

  @Override
  protected ReplicaClient storage(Path root) throws Exception {
    s3 = new S3Storage(root);
    return s3.client("backups");
  }

  @AfterEach
  void stopS3() throws Exception {
    if (s3 != null) s3.close();
  }
}
