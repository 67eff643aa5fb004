package dev.strata.replica.age;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.AgeTestKeys;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.TestLtx;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica contract on an age-encrypted S3 replica (S3Proxy). */
class AgeS3ReplicaClientTest extends ReplicaClientContractTest {
  @TempDir static Path dir;
  static S3ProxyServer s3;
  static AgeTestKeys key;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3ProxyServer.start();
    key = AgeTestKeys.create(dir, "key.txt");
  }

  @AfterAll
  static void stop() throws Exception {
    s3.close();
  }

  @Override
  protected ReplicaClient open(String name) {
    return ReplicaUrl.open(url(name));
  }

  /** 5 MiB parts, so that the 12 MiB round trip and the killed writer go through multipart uploads. */
  @Override
  protected String url(String name) {
    return key.addTo(s3.url(name) + "&part-size=5MiB");
  }

  @Override
  protected boolean listingCarriesHeader() {
    return true; // the age client reads every file's header and trailer (once)
  }

  @Override
  protected long[] killedWriteSizeAndPause() {
    return new long[] {12 << 20, 8 << 20};
  }

  @Override
  protected void assertPartialWriteLeftOver(TxidRange range) {
    assertThat(s3.blobStore().listMultipartUploads(S3ProxyServer.BUCKET))
        .anySatisfy(u -> assertThat(u.key()).isEqualTo(rootName + "/0/" + range.fileName()));
  }

  @Test
  void objectMetadataCarriesNothingOfThePages() throws Exception {
    TestLtx f = TestLtx.of(1, 3, 3, 1);
    client.writeFile(0, f.info(), f.stream(), f.size());
    var meta = s3.blobStore().blobMetadata(S3ProxyServer.BUCKET, rootName + "/0/" + f.range().fileName())
        .metadata();
    assertThat(meta).containsEntry("page-size", "0").containsEntry("commit", "0")
        .containsEntry("pre-apply-checksum", "0000000000000000")
        .containsEntry("post-apply-checksum", "0000000000000000");
    assertThat(AgeReplicaClient.unwrap(client).head(0, f.range()).hasHeader()).isFalse();
  }
}
