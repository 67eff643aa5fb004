package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaFiles;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Plans computed from listings alone. */
class RestorePlannerTest {
  private static LtxFileMeta f(int level, long min, long max) {
    return LtxFileMeta.bare(level, new TxidRange(min, max), 100, Instant.EPOCH);
  }

  private static LtxFileMeta f(int level, long min, long max, long pre, long post) {
    return new LtxFileMeta(level, new TxidRange(min, max), 100, Instant.EPOCH, 4096, 10, 0, pre, post);
  }

  private static List<String> names(RestorePlan p) {
    return p.files().stream().map(LtxFileMeta::path).toList();
  }

  @Test
  void takesTheFewestFilesLevelByLevel() throws IOException {
    // litefs-backup's CalcSnapshotPlan example, with finer files below that a good plan does not need.
    List<LtxFileMeta> all = new ArrayList<>(List.of(f(9, 1, 80), f(3, 81, 87), f(3, 88, 89), f(1, 90, 94),
        f(1, 95, 97), f(0, 98, 99), f(0, 100, 100), f(9, 1, 50), f(3, 51, 80)));
    for (long t = 81; t <= 97; t++) all.add(f(0, t, t));
    ReplicaFiles files = ReplicaFiles.of(all);
    RestorePlan p = RestorePlanner.plan(files, 100);
    assertThat(names(p)).containsExactly("9/0000000000000001-0000000000000050.ltx",
        "3/0000000000000051-0000000000000057.ltx", "3/0000000000000058-0000000000000059.ltx",
        "1/000000000000005a-000000000000005e.ltx", "1/000000000000005f-0000000000000061.ltx",
        "0/0000000000000062-0000000000000063.ltx", "0/0000000000000064-0000000000000064.ltx");
    assertThat(p.range()).isEqualTo(new TxidRange(1, 100));
    assertThat(p.totalBytes()).isEqualTo(700);
    // To a point inside a level-3 file, the finer level 0 takes over.
    assertThat(names(RestorePlanner.plan(files, 85))).containsExactly("9/0000000000000001-0000000000000050.ltx",
        "0/0000000000000051-0000000000000051.ltx", "0/0000000000000052-0000000000000052.ltx",
        "0/0000000000000053-0000000000000053.ltx", "0/0000000000000054-0000000000000054.ltx",
        "0/0000000000000055-0000000000000055.ltx");
    // Equal reach: the higher level wins.
    ReplicaFiles tie = ReplicaFiles.of(List.of(f(9, 1, 5), f(1, 6, 9), f(2, 6, 9)));
    assertThat(names(RestorePlanner.plan(tie, 9))).containsExactly("9/0000000000000001-0000000000000005.ltx",
        "2/0000000000000006-0000000000000009.ltx");
  }

  @Test
  void aFileMayStartInsideWhatIsAlreadyApplied() throws IOException {
    ReplicaFiles files = ReplicaFiles.of(List.of(f(9, 1, 10), f(2, 5, 20), f(0, 21, 22)));
    assertThat(names(RestorePlanner.plan(files, 22))).containsExactly("9/0000000000000001-000000000000000a.ltx",
        "2/0000000000000005-0000000000000014.ltx", "0/0000000000000015-0000000000000016.ltx");
  }

  @Test
  void theNewestSnapshotBridgesABreak() throws IOException {
    // Level 0 lost TXIDs 6..7; the agent wrote snapshot 1..8 and continued at 9.
    ReplicaFiles files = ReplicaFiles.of(List.of(f(9, 1, 1), f(0, 2, 5), f(9, 1, 8), f(0, 9, 9)));
    assertThat(names(RestorePlanner.plan(files, 9))).containsExactly("9/0000000000000001-0000000000000008.ltx",
        "0/0000000000000009-0000000000000009.ltx");
    assertThat(names(RestorePlanner.plan(files, 5))).containsExactly("9/0000000000000001-0000000000000001.ltx",
        "0/0000000000000002-0000000000000005.ltx");
  }

  @Test
  void brokenChecksumChainIsAnError() {
    long flag = 0x8000000000000000L;
    ReplicaFiles files = ReplicaFiles.of(List.of(f(9, 1, 3, 0, flag | 7), f(0, 4, 5, flag | 8, flag | 9)));
    assertThatThrownBy(() -> RestorePlanner.plan(files, 5)).hasMessageContaining("broken checksum chain")
        .hasMessageContaining("0/0000000000000004-0000000000000005.ltx");
  }

  @Test
  void noSnapshotIsAnError() {
    ReplicaFiles files = ReplicaFiles.of(List.of(f(0, 4, 5), f(9, 1, 9)));
    assertThatThrownBy(() -> RestorePlanner.plan(files, 5)).hasMessageContaining("no snapshot at or before TXID "
        + "0000000000000005");
  }

  @Test
  void txidsOrderUnsignedAsInLiteFs() throws IOException {
    long big = 0x8000_0000_0000_0000L; // Go's uint64 above Long.MAX_VALUE: negative as a Java long
    ReplicaFiles files = ReplicaFiles.of(List.of(f(9, 1, big + 1), f(0, big + 2, big + 2), f(0, big + 3, big + 5),
        f(1, big + 2, big + 5)));
    assertThat(files.maxTxid()).isEqualTo(big + 5);
    assertThat(files.boundaries()).containsExactly(big + 1, big + 2, big + 5);
    assertThat(names(RestorePlanner.plan(files, big + 5))).containsExactly("9/0000000000000001-8000000000000001.ltx",
        "1/8000000000000002-8000000000000005.ltx");
    assertThat(names(new RestorePlanner(null, files).latest())).hasSize(2);
    assertThat(new RestorePlanner(null, files).restorePointTxids()).containsExactly(big + 1, big + 2, big + 5);
  }
}
