package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.replica.file.FileReplicaClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chain check accepts chains across levels and snapshots, and names every break, conflict and bad file. */
class ChainCheckTest {
  private static final int PAGE = 512;
  @TempDir Path dir;
  private FileReplicaClient replica;

  @BeforeEach
  void open() {
    replica = new FileReplicaClient(dir);
  }

  /** A snapshot of {@code pages} pages filled with {@code fill}; returns its post-apply checksum. */
  private long snapshot(int level, long max, int pages, int fill) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, PAGE, pages, 1, max, 1000, 0));
    for (int p = 1; p <= pages; p++) enc.encodePage(p, page(fill + p));
    LtxTrailer t = enc.finish(enc.pagesChecksum());
    store(level, enc.header(), t, out.toByteArray());
    return t.postApplyChecksum();
  }

  /** An incremental file changing page 1; the post-apply checksum is whatever the test says. */
  private void delta(int level, long min, long max, long pre, long post) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(0, PAGE, 4, min, max, 2000 + max, pre));
    enc.encodePage(1, page((int) max));
    LtxTrailer t = enc.finish(post);
    store(level, enc.header(), t, out.toByteArray());
  }

  private void store(int level, LtxHeader h, LtxTrailer t, byte[] bytes) throws IOException {
    replica.writeFile(level, new LtxFileInfo(h, t, -1), new ByteArrayInputStream(bytes), bytes.length);
  }

  private static byte[] page(int fill) {
    byte[] b = new byte[PAGE];
    java.util.Arrays.fill(b, (byte) fill);
    return b;
  }

  private static long sum(int n) {
    return Checksum.FLAG | (0x1234L * n);
  }

  @Test
  void aChainAcrossLevelsIsWhole() throws IOException {
    long a = snapshot(0, 3, 4, 1);
    delta(0, 4, 5, a, sum(5));
    delta(0, 6, 8, sum(5), sum(8));
    delta(1, 4, 8, a, sum(8));
    ChainCheck.Report r = ChainCheck.check(replica);
    assertThat(r.problems()).isEmpty();
    assertThat(r.restorePoints().keySet()).containsExactly(3L, 5L, 8L);
    assertThat(r.restorePoints().get(8L).levels()).containsExactlyInAnyOrder(0, 1);
    assertThat(r.maxTxid()).isEqualTo(8);
    assertThat(r.levelCounts()).isEqualTo("L0=3 L1=1");
  }

  @Test
  void aWrongPreApplyChecksumBreaksTheChain() throws IOException {
    long a = snapshot(0, 3, 4, 1);
    delta(0, 4, 5, a, sum(5));
    delta(0, 6, 8, sum(99), sum(8));
    assertThat(ChainCheck.check(replica).problems()).singleElement().asString()
        .startsWith("chain break: 0/0000000000000006-0000000000000008").contains("nearest earlier: 0/");
  }

  @Test
  void aMissingRangeBreaksTheChain() throws IOException {
    long a = snapshot(0, 3, 4, 1);
    delta(0, 4, 5, a, sum(5));
    delta(0, 7, 8, sum(5), sum(8));
    assertThat(ChainCheck.check(replica).problems()).singleElement().asString().startsWith("chain break");
  }

  @Test
  void aFileOverlappingAReachablePointJoinsAsTheRestorePlannerAllows() throws IOException {
    long a = snapshot(0, 3, 4, 1);
    delta(1, 4, 8, a, sum(8)); // compacted: levels overlap
    delta(0, 7, 9, sum(6), sum(9)); // its exact predecessor (ending at 6) is gone, but it holds 8..9
    delta(0, 11, 12, sum(10), sum(12)); // nothing reaches 10 or anything inside 11..12
    ChainCheck.Report r = ChainCheck.check(replica);
    assertThat(r.restorePoints().keySet()).containsExactly(3L, 8L, 9L);
    assertThat(r.overlapJoins()).isEqualTo(1);
    assertThat(r.problems()).singleElement().asString().startsWith("chain break: 0/000000000000000b");
  }

  @Test
  void aLevelZeroTailWhoseRestorePointALevelOneFileHoldsIsSuperseded() throws IOException {
    // Seen in the torture run (seed 7): level 1 holds 4..8; retention removed level 0's 4..5 and 6..7 (their
    // restore points expired) and keeps 8..8 until its next pass. Restore point 8 is reached through level 1.
    long a = snapshot(9, 3, 4, 1);
    delta(1, 4, 8, a, sum(8));
    delta(0, 8, 8, sum(7), sum(8));
    delta(0, 9, 10, sum(8), sum(10));
    ChainCheck.Report r = ChainCheck.check(replica);
    assertThat(r.problems()).isEmpty();
    assertThat(r.superseded()).isEqualTo(1);
    assertThat(r.restorePoints().keySet()).containsExactly(3L, 8L, 10L);
  }

  /** The replica's one problem is a chain break at {@code file}, and no file counts as superseded. */
  private void assertOnlyABreakAt(String file) throws IOException {
    ChainCheck.Report r = ChainCheck.check(replica);
    assertThat(r.superseded()).isZero();
    assertThat(r.problems()).singleElement().asString().startsWith("chain break: " + file);
  }

  @Test
  void aTailEndingWhereNothingElseEndsIsStillABreak() throws IOException {
    long a = snapshot(9, 3, 4, 1);
    delta(1, 4, 9, a, sum(9));
    delta(0, 8, 8, sum(7), sum(8)); // restore point 8: nothing else ends there
    delta(0, 10, 10, sum(9), sum(10));
    assertOnlyABreakAt("0/0000000000000008");
  }

  @Test
  void aTailWhoseStartContradictsAReachablePositionIsABreak() throws IOException {
    long a = snapshot(9, 3, 4, 1);
    delta(0, 4, 7, a, sum(7));
    delta(1, 4, 8, a, sum(8));
    delta(0, 8, 8, sum(99), sum(8)); // ends where level 1 ends, but applies to a state TXID 7 never had
    assertOnlyABreakAt("0/0000000000000008");
  }

  @Test
  void aRestorePointRemovedInsideItsRetentionIsLost() throws IOException {
    long a = snapshot(9, 3, 4, 1);
    delta(0, 4, 5, a, sum(5)); // timestamps: 2000 + max
    delta(0, 6, 8, sum(5), sum(8));
    delta(1, 4, 8, a, sum(8));
    java.util.Map<Long, ChainCheck.RestorePoint> seen = new java.util.HashMap<>();
    ChainCheck.remember(seen, ChainCheck.check(replica));
    replica.deleteFiles(0, java.util.List.of(new dev.strata.ltx.TxidRange(4, 5)));
    ChainCheck.Report r = ChainCheck.check(replica);
    var levels = dev.strata.replica.level.LevelConfig.defaults();
    long fiveMinutes = 5 * 60_000;
    // Level 0 keeps point 5 for five minutes after its timestamp (2005 ms): gone at 2005 + 5 min − 2 s is too early.
    assertThat(ChainCheck.lostInsideRetention(seen, r, levels, 2005 + fiveMinutes - 2000)).singleElement().asString()
        .startsWith("restore point 0000000000000005").contains("level 0");
    assertThat(ChainCheck.lostInsideRetention(seen, r, levels, 2005 + fiveMinutes)).isEmpty();
    // Point 8 is still reached (through level 1); point 3 (a snapshot) too.
    assertThat(r.restorePoints().keySet()).containsExactly(3L, 8L);
  }

  @Test
  void twoStatesForOneTxidConflict() throws IOException {
    long a = snapshot(0, 3, 4, 1);
    delta(0, 4, 8, a, sum(8));
    delta(1, 4, 8, a, sum(9));
    assertThat(ChainCheck.check(replica).problems()).singleElement().asString()
        .startsWith("conflicting states at TXID 0000000000000008");
  }

  @Test
  void aSnapshotRestartsTheChainAndOlderOrphansAreOnlyCounted() throws IOException {
    delta(0, 4, 5, sum(3), sum(5)); // its predecessor is gone (retention)
    long s = snapshot(9, 10, 4, 7);
    delta(0, 11, 12, s, sum(12));
    ChainCheck.Report r = ChainCheck.check(replica);
    assertThat(r.problems()).isEmpty();
    assertThat(r.unreachableBeforeSnapshot()).isEqualTo(1);
    assertThat(r.restorePoints().keySet()).containsExactly(10L, 12L);
  }

  @Test
  void aDamagedFileIsNamed() throws IOException {
    long a = snapshot(0, 3, 4, 1);
    delta(0, 4, 5, a, sum(5));
    try (RandomAccessFile f = new RandomAccessFile(
        dir.resolve("0").resolve("0000000000000004-0000000000000005.ltx").toFile(), "rw")) {
      f.seek(150);
      f.write(f.read() ^ 0x10);
    }
    assertThat(ChainCheck.check(replica).problems()).singleElement().asString()
        .startsWith("0/0000000000000004-0000000000000005.ltx: file checksum mismatch");
  }
}
