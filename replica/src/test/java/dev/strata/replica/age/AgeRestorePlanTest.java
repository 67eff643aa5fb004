package dev.strata.replica.age;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.testing.AgeTestKeys;
import dev.strata.replica.testing.ForwardingReplicaClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A restore of an encrypted replica reads the headers of its plan's files only, and still checks their chain. */
class AgeRestorePlanTest {
  @TempDir Path dir;
  AgeTestKeys key;
  /** Which files were opened (level/name), through the storage below the age client. */
  final Set<String> opened = ConcurrentHashMap.newKeySet();
  /** Requests for one file's size and time (a HEAD on S3), which the listing already gave. */
  final AtomicInteger heads = new AtomicInteger();

  @BeforeEach
  void keys() {
    key = AgeTestKeys.create(dir.resolve("keys"), "key.txt");
  }

  private ReplicaClient replica() {
    ReplicaClient counted = new ForwardingReplicaClient(new FileReplicaClient(dir.resolve("replica"))) {
      @Override
      public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
        opened.add(level + "/" + range.fileName());
        return super.openFile(level, range, offset);
      }

      @Override
      public LtxFileMeta head(int level, TxidRange range) throws IOException {
        heads.incrementAndGet();
        return super.head(level, range);
      }
    };
    return AgeReplicaClient.wrap(counted, List.of(key.recipient()), List.of(key.identityFile()));
  }

  /** The database checksum after the snapshot of TXIDs 1-3. */
  long snapshot;

  /**
   * A file for TXIDs {@code min..max} whose database checksum goes from {@code pre} to {@code post} (a snapshot's is
   * that of its page, kept in {@link #snapshot}).
   */
  private void write(ReplicaClient c, int level, long min, long max, long pre, long post) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(0, 512, 1, min, max, 1_700_000_000_000L + max, pre));
    enc.encodePage(1, new byte[512]);
    if (min == 1) post = snapshot = enc.pagesChecksum();
    LtxTrailer trailer = enc.finish(post);
    byte[] bytes = out.toByteArray();
    c.writeFile(level, new LtxFileInfo(enc.header(), trailer, 1), new ByteArrayInputStream(bytes), bytes.length);
  }

  private long sum(long txid) {
    return txid == 3 ? snapshot : Checksum.FLAG | txid * 7919;
  }

  @Test
  void latestDescribesOnlyThePlannedFiles() throws Exception {
    try (ReplicaClient writer = replica()) {
      write(writer, 9, 1, 3, 0, 0);
      for (long t = 4; t <= 12; t++) write(writer, 0, t, t, sum(t - 1), sum(t));
      write(writer, 1, 4, 10, sum(3), sum(10));
    }
    opened.clear();
    try (ReplicaClient reader = replica()) {
      RestorePlan plan = new RestorePlanner(reader).latest();
      assertThat(plan.files()).extracting(f -> f.level() + "/" + f.range().fileName()).containsExactly(
          "9/0000000000000001-0000000000000003.ltx", "1/0000000000000004-000000000000000a.ltx",
          "0/000000000000000b-000000000000000b.ltx", "0/000000000000000c-000000000000000c.ltx");
      assertThat(plan.files()).allSatisfy(f -> assertThat(f.postApplyChecksum()).isNotZero());
      assertThat(plan.expectedChecksum()).isEqualTo(sum(12));
      assertThat(opened).containsExactlyInAnyOrderElementsOf(
          plan.files().stream().map(f -> f.level() + "/" + f.range().fileName()).toList());
      assertThat(heads).hasValue(0);
      // Every restore point with its time: the other files' headers are read then, still without a HEAD each.
      assertThat(new RestorePlanner(reader).restorePoints()).extracting(p -> p.txid())
          .containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
      assertThat(heads).hasValue(0);
    }
  }

  @Test
  void aBrokenChainIsFoundOnceThePlannedFilesAreDescribed() throws Exception {
    try (ReplicaClient writer = replica()) {
      write(writer, 9, 1, 3, 0, 0);
      write(writer, 0, 4, 4, sum(3), sum(4));
      write(writer, 0, 5, 5, sum(99), sum(5)); // does not follow TXID 4
    }
    try (ReplicaClient reader = replica()) {
      assertThatThrownBy(() -> new RestorePlanner(reader).latest()).hasMessageContaining("broken checksum chain");
      List<LtxFileMeta> named = reader.listAllNames();
      assertThat(named).hasSize(3);
    }
  }
}
