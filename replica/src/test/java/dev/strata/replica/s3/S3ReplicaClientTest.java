package dev.strata.replica.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.FaultProxy.Fault;
import dev.strata.replica.testing.FaultProxy;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.TestLtx;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** The contract against S3Proxy over HTTP, plus S3's metadata, request counts, retries and failure messages. */
class S3ReplicaClientTest extends ReplicaClientContractTest {
  static S3ProxyServer s3;
  FaultProxy proxy;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyServer.start();
  }

  @AfterAll
  static void stopS3() throws Exception {
    s3.close();
  }

  @BeforeEach
  void startProxy() throws IOException {
    proxy = FaultProxy.start(s3.port());
  }

  @AfterEach
  void stopProxy() throws IOException {
    proxy.close();
  }

  @Override
  protected ReplicaClient open(String name) {
    return ReplicaUrl.open(url(name));
  }

  /** 5 MiB parts, so that the 12 MiB round trip and the killed writer go through multipart uploads. */
  @Override
  protected String url(String name) {
    return s3.url(name) + "&part-size=5MiB";
  }

  @Override
  protected boolean listingCarriesHeader() {
    return false;
  }

  @Override
  protected long[] killedWriteSizeAndPause() {
    return new long[] {12 << 20, 8 << 20}; // killed after part 1 of 3 was uploaded
  }

  @Override
  protected void assertPartialWriteLeftOver(TxidRange range) {
    assertThat(s3.blobStore().listMultipartUploads(S3ProxyServer.BUCKET))
        .anySatisfy(u -> assertThat(u.key()).isEqualTo(key(0, range)));
  }

  /** A client of this test's root through the fault proxy. */
  private ReplicaClient viaProxy(String options) {
    return ReplicaUrl.open(s3.url(rootName, proxy.port()) + options);
  }

  private String key(int level, TxidRange r) {
    return rootName + "/" + level + "/" + r.fileName();
  }

  @Test
  void objectsCarryLitefsBackupMetadata() throws Exception {
    TestLtx f = TestLtx.of(3, 5, 2, 1);
    client.writeFile(2, f.info(), f.stream(), f.size());
    Map<String, String> m = s3.blobStore().blobMetadata(S3ProxyServer.BUCKET, key(2, f.range())).metadata();
    var h = f.info().header();
    assertThat(m).containsEntry("page-size", "4096")
        .containsEntry("commit", Integer.toString(h.commit()))
        .containsEntry("timestamp", Timestamps.format(h.timestamp()))
        .containsEntry("pre-apply-checksum", Checksum.format(h.preApplyChecksum()))
        .containsEntry("post-apply-checksum", Checksum.format(f.info().trailer().postApplyChecksum()));
    assertThat(m.get("timestamp")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(m.get("pre-apply-checksum")).matches("[0-9a-f]{16}");
  }

  @Test
  void objectsWithoutMetadataAreDescribedBare() throws Exception {
    var put = PutObjectRequest.builder().bucket(S3ProxyServer.BUCKET).key(key(0, new TxidRange(1, 1))).build();
    s3.blobStore().putBlob(put, new ByteArrayInputStream(new byte[10]));
    assertThat(client.head(0, new TxidRange(1, 1))).satisfies(m -> {
      assertThat(m.hasHeader()).isFalse();
      assertThat(m.size()).isEqualTo(10);
    });
  }

  @Test
  void noRequestAtConstructionOrWhileIdle() throws Exception {
    try (ReplicaClient c = viaProxy("")) {
      c.child("a").child("b");
      Thread.sleep(1500);
      assertThat(proxy.requests()).isZero();
      c.listFiles(0);
      assertThat(proxy.requests()).isEqualTo(1);
      Thread.sleep(1000);
      assertThat(proxy.requests()).isEqualTo(1);
    }
    assertThat(proxy.requests()).isEqualTo(1);
  }

  @Test
  void oneRequestPerSmallWriteAndPerRead() throws Exception {
    try (ReplicaClient c = viaProxy("")) {
      List<TestLtx> files = new ArrayList<>();
      for (int i = 1; i <= 50; i++) files.add(TestLtx.of(i, i, 1, i));
      for (TestLtx f : files) c.writeFile(0, f.info(), f.stream(), f.size());
      assertThat(proxy.requests()).isEqualTo(50);
      assertThat(proxy.requests("PUT")).isEqualTo(50);
      try (InputStream in = c.openFile(0, files.get(7).range(), 0)) {
        assertThat(in.readAllBytes()).isEqualTo(files.get(7).bytes());
      }
      c.head(0, files.get(8).range());
      assertThat(proxy.requests()).isEqualTo(52);
    }
  }

  @Test
  void listingsPageAndDeletesBatchByThousand() throws Exception {
    List<TxidRange> ranges = new ArrayList<>();
    for (int i = 1; i <= 1005; i++) {
      TxidRange r = new TxidRange(i, i);
      ranges.add(r);
      s3.blobStore().putBlob(PutObjectRequest.builder().bucket(S3ProxyServer.BUCKET).key(key(4, r)).build(),
          new ByteArrayInputStream(new byte[1]));
    }
    try (ReplicaClient c = viaProxy("")) {
      assertThat(c.listFiles(4)).extracting(LtxFileMeta::range).containsExactlyElementsOf(ranges);
      assertThat(proxy.requests("GET")).isEqualTo(2);
      c.deleteFiles(4, ranges);
      assertThat(proxy.requests("POST")).isEqualTo(2);
      assertThat(c.listFiles(4)).isEmpty();
    }
  }

  /** Stores an empty object under this test's root, bypassing the client. */
  private void putObject(String name) {
    s3.blobStore().putBlob(PutObjectRequest.builder().bucket(S3ProxyServer.BUCKET).key(rootName + "/" + name).build(),
        new ByteArrayInputStream(new byte[1]));
  }

  @Test
  void aCatalogueIsOneListPerThousandKeys() throws Exception {
    String ltx = new TxidRange(1, 2).fileName();
    for (int level : new int[] {0, 1, 2, 3, 9}) putObject(level + "/" + ltx);
    // Names that are not level files, inside and around the levels' span, are skipped as the level listings skip them.
    for (String name : new String[] {"3/notes.txt", "3/sub/" + ltx, "35/" + ltx, "3a/0/" + ltx, "-x/0/" + ltx,
        "a/9/" + ltx, "9-x/" + ltx}) {
      putObject(name);
    }
    try (ReplicaClient c = viaProxy("")) {
      List<LtxFileMeta> each = new ArrayList<>();
      for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) each.addAll(c.listFiles(level));
      assertThat(proxy.requests("GET")).isEqualTo(10); // one LIST per level
      proxy.resetCounts();

      ReplicaFiles files = ReplicaFiles.list(c);
      assertThat(proxy.requests()).isEqualTo(1); // one LIST for all levels
      assertThat(files.all()).isEqualTo(each).extracting(LtxFileMeta::level).containsExactly(0, 1, 2, 3, 9);

      // 1000 keys a page: 1001 files are two LISTs; keys past level 9 are not read at all.
      for (int i = 1; i <= 996; i++) putObject("4/" + new TxidRange(i, i).fileName());
      for (int i = 1; i <= 1500; i++) putObject("zz/0/" + new TxidRange(i, i).fileName());
      proxy.resetCounts();
      assertThat(c.listAllFiles()).hasSize(1001);
      assertThat(proxy.requests()).isEqualTo(2);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Fault.class, names = {"ERROR_500", "ERROR_503", "ERROR_429", "RESET"})
  void transientFaultsAreRetried(Fault fault) throws Exception {
    TestLtx f = TestLtx.of(7, 8, 3, 2);
    try (ReplicaClient c = viaProxy("&max-attempts=4")) {
      proxy.schedule(FaultProxy.firstN(2, fault));
      c.writeFile(0, f.info(), f.stream(), f.size());
      assertThat(proxy.requests("PUT")).isEqualTo(3);

      proxy.schedule(FaultProxy.firstN(2, fault));
      assertThat(c.listFiles(0)).hasSize(1);
      proxy.schedule(FaultProxy.firstN(2, fault));
      try (InputStream in = c.openFile(0, f.range(), 0)) {
        assertThat(in.readAllBytes()).isEqualTo(f.bytes());
      }
      proxy.schedule(FaultProxy.firstN(2, fault));
      c.deleteFiles(0, List.of(f.range()));
      assertThat(proxy.faults()).isEqualTo(8);
    }
    assertThat(client.listFiles(0)).isEmpty();
  }

  @Test
  void aStalledRequestTimesOutAndIsRetried() throws Exception {
    TestLtx f = TestLtx.of(9, 9, 1, 3);
    try (ReplicaClient c = viaProxy("&timeout=1s")) {
      proxy.schedule(FaultProxy.firstN(1, Fault.STALL));
      c.writeFile(0, f.info(), f.stream(), f.size());
      assertThat(proxy.requests("PUT")).isEqualTo(2);
    }
    assertThat(client.listFiles(0)).extracting(LtxFileMeta::range).containsExactly(f.range());
  }

  @Test
  void aStalledSmallUploadIsRetriedLongBeforeTheSilenceTimeout() throws Exception {
    TestLtx f = TestLtx.of(11, 11, 1, 5);
    try (ReplicaClient c = viaProxy("")) { // the default 20-s silence timeout
      proxy.schedule(FaultProxy.firstN("PUT", 1, Fault.STALL));
      long start = System.nanoTime();
      c.writeFile(0, f.info(), f.stream(), f.size());
      // Abandoned after ~2 s and retried, not after 20 s of silence (generous: the machine may be loaded).
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(12));
      assertThat(proxy.requests("PUT")).isEqualTo(2);
    }
    assertThat(client.listFiles(0)).extracting(LtxFileMeta::range).contains(f.range());
    assertThat(S3ReplicaClient.attemptTimeout(16L << 20)).isGreaterThan(Duration.ofMinutes(4)); // a 16 MiB part
  }

  @Test
  void persistentFaultsFailClearlyAfterTheRetryBudget() throws Exception {
    TestLtx f = TestLtx.of(10, 10, 1, 4);
    try (ReplicaClient c = viaProxy("&max-attempts=3")) {
      proxy.schedule(FaultProxy.always(Fault.ERROR_503));
      assertThatThrownBy(() -> c.writeFile(0, f.info(), f.stream(), f.size()))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("PUT s3://strata/" + key(0, f.range()))
          .hasMessageContaining("after 3 attempts")
          .hasMessageContaining("HTTP 503 SlowDown")
          .message().doesNotContain("\n");
      assertThat(proxy.requests("PUT")).isEqualTo(3);

      proxy.schedule(FaultProxy.always(Fault.RESET));
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageContaining("LIST").hasMessageContaining("after 3 attempts");
    }
    assertThat(client.listFiles(0)).isEmpty();
  }

  @Test
  void aPartUploadIsRetried() throws Exception {
    int size = 11 << 20;
    byte[] data = new byte[size];
    new Random(7).nextBytes(data);
    try (ReplicaClient c = viaProxy("&part-size=5MiB")) {
      var left = new java.util.concurrent.atomic.AtomicInteger(2);
      proxy.schedule((method, target, n) -> method.equals("PUT") && target.contains("partNumber=2")
          && left.getAndDecrement() > 0 ? Fault.RESET : Fault.NONE);
      LtxFileMeta m = c.writeFile(0, TestLtx.fakeInfo(1, 60), new ByteArrayInputStream(data), size);
      assertThat(proxy.faults()).isEqualTo(2);
      assertThat(proxy.requests("PUT")).isEqualTo(5); // parts 1, 2 (three times), 3
      try (InputStream in = client.openFile(0, m.range(), 0)) {
        assertThat(in.readAllBytes()).isEqualTo(data);
      }
    }
  }

  @Test
  void aFailedMultipartUploadIsAbortedAndLeavesNothing() throws Exception {
    int size = 12 << 20;
    byte[] data = new byte[size];
    new Random(5).nextBytes(data);
    try (ReplicaClient c = viaProxy("&part-size=5MiB&max-attempts=2")) {
      proxy.schedule((method, target, n) -> method.equals("PUT") && target.contains("partNumber=2")
          ? Fault.ERROR_500 : Fault.NONE);
      assertThatThrownBy(() -> c.writeFile(0, TestLtx.fakeInfo(1, 50), new ByteArrayInputStream(data), size))
          .isInstanceOf(IOException.class).hasMessageContaining("UploadPart 2").hasMessageContaining("HTTP 500");
    }
    assertThat(proxy.log()).anySatisfy(line -> assertThat(line).startsWith("DELETE ").contains("uploadId="));
    assertThat(s3.blobStore().listMultipartUploads(S3ProxyServer.BUCKET))
        .noneSatisfy(u -> assertThat(u.key()).startsWith(rootName + "/"));
    assertThat(client.listFiles(0)).isEmpty();

    // The same upload through a clean path succeeds and reads back.
    LtxFileMeta m = client.writeFile(0, TestLtx.fakeInfo(1, 50), new ByteArrayInputStream(data), size);
    try (InputStream in = client.openFile(0, m.range(), 0)) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }

  @Test
  void aDownloadCutMidwayResumesFromItsOffset() throws Exception {
    int size = 3 << 20;
    byte[] data = new byte[size];
    new Random(6).nextBytes(data);
    client.writeFile(1, TestLtx.fakeInfo(2, 3), new ByteArrayInputStream(data), size);
    try (ReplicaClient c = viaProxy("")) {
      proxy.schedule(FaultProxy.firstN("GET", 1, Fault.RESET_MID_RESPONSE));
      var got = new java.io.ByteArrayOutputStream();
      try (InputStream in = c.openFile(1, new TxidRange(2, 3), 0)) {
        byte[] buf = new byte[65536];
        for (int n; (n = in.read(buf)) >= 0; ) got.write(buf, 0, n);
      } catch (IOException cut) {
        // expected: the connection was reset half-way
      }
      assertThat(got.size()).isLessThan(size);
      try (InputStream in = c.openFile(1, new TxidRange(2, 3), got.size())) {
        in.transferTo(got);
      }
      assertThat(got.toByteArray()).isEqualTo(data);
    }
  }

  @Test
  void wrongCredentialsAreAccessDenied() {
    String url = s3.url(rootName).replace(S3ProxyServer.SECRET_KEY, "wrong-secret");
    try (ReplicaClient c = ReplicaUrl.open(url)) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageStartingWith("access denied to s3://strata/" + rootName);
      TestLtx f = TestLtx.of(1, 1, 1, 1);
      assertThatThrownBy(() -> c.writeFile(0, f.info(), f.stream(), f.size())).isInstanceOf(IOException.class)
          .hasMessageStartingWith("access denied to s3://strata/" + rootName);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aMissingBucketIsNamed() throws Exception {
    String url = s3.url(rootName).replace("s3://strata/", "s3://no-such-bucket/");
    try (ReplicaClient c = ReplicaUrl.open(url)) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class)
          .hasMessageStartingWith("s3 bucket \"no-such-bucket\" does not exist");
    }
  }

  @Test
  void aSingleAttemptIsNotRetried() throws Exception {
    try (ReplicaClient c = viaProxy("&max-attempts=1")) {
      proxy.schedule(FaultProxy.always(Fault.ERROR_500));
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(IOException.class).hasMessageContaining("HTTP 500");
      assertThat(proxy.requests()).isEqualTo(1);
    }
  }
}
