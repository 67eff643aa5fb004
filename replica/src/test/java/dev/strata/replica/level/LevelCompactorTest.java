package dev.strata.replica.level;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Txid;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaFiles;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlan;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import dev.strata.replica.restore.RestoreResult;
import dev.strata.replica.testing.CountingReplicaClient;
import dev.strata.replica.testing.FakeClock;
import dev.strata.replica.testing.LtxChain;
import dev.strata.replica.testing.ShmDir;
import dev.strata.replica.testing.SyntheticDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compaction and retention under a fake clock, with the default levels (DESIGN.md "Levels"). */
class LevelCompactorTest {
  @TempDir Path tmp;

  private static final Instant START = Instant.parse("2026-01-01T00:00:03Z");

  /** A writer, its replica and compactor, and what the writer knows about every TXID. */
  private static final class Sim {
    final FakeClock clock = new FakeClock(START);
    final CountingReplicaClient replica;
    final LtxChain chain;
    final SyntheticDatabase db;
    LevelSchedule compactor;
    final TreeMap<Long, Long> checksums = new TreeMap<>();
    final Map<Long, byte[]> images = new HashMap<>();
    /** Every boundary ever compacted into a level: level → (max TXID → header time). */
    final Map<Integer, TreeMap<Long, Instant>> boundaries = new HashMap<>();

    Sim(Path root, Path temp) {
      replica = new CountingReplicaClient(new FileReplicaClient(root));
      chain = new LtxChain(replica, clock, temp);
      db = new SyntheticDatabase(chain, 512, 48, 42);
      compactor = new LevelSchedule(replica, LevelConfig.defaults(), clock, temp);
    }

    void snapshot(long skipped) throws IOException {
      note(db.snapshot(skipped));
    }

    void write(int txCount) throws IOException {
      note(db.change(0, txCount, 4));
    }

    private void note(LtxFileMeta m) {
      compactor.noteWritten(m);
      checksums.put(chain.txid(), chain.checksum());
      if (images.size() < 2000 && (chain.txid() % 23 == 0 || chain.txid() < 5)) images.put(chain.txid(), db.image());
      boundaries.computeIfAbsent(m.level(), k -> new TreeMap<>()).put(m.maxTxid(), clock.instant());
    }

    private int seenWrites;

    /** The agent's loop: run what is due, then record what the compactor wrote. */
    void tick() throws IOException {
      if (clock.instant().isBefore(compactor.nextDue())) return;
      compactor.runDue();
      if (replica.writes.get() == seenWrites) return;
      seenWrites = replica.writes.get();
      for (var e : compactor.known().entrySet()) {
        for (LtxFileMeta f : e.getValue()) {
          boundaries.computeIfAbsent(e.getKey(), k -> new TreeMap<>())
              .putIfAbsent(f.maxTxid(), Instant.ofEpochMilli(f.timestamp()));
        }
      }
    }

    /** Runs the loop for {@code d} in 10-second steps, writing {@code everySeconds} (0: never). */
    void run(Duration d, int everySeconds, Random rnd) throws IOException {
      Instant end = clock.instant().plus(d);
      while (clock.instant().isBefore(end)) {
        clock.advance(Duration.ofSeconds(10));
        long s = clock.instant().getEpochSecond();
        if (everySeconds > 0 && s % everySeconds < 10 && rnd.nextInt(10) < 8) write(1 + rnd.nextInt(3));
        tick();
      }
    }
  }

  @Test
  void monthOfWritesKeepsEveryRetainedRestorePointRestorable() throws Exception {
    try (ShmDir shm = new ShmDir(tmp)) {
      Sim sim = new Sim(shm.path().resolve("replica"), shm.path());
      Random rnd = new Random(1);
      sim.snapshot(0);
      sim.run(Duration.ofDays(10).plusHours(12), 300, rnd);
      // A continuity break: the agent lost two TXIDs and wrote a new snapshot; level 0 continues after it.
      sim.snapshot(2);
      sim.run(Duration.ofDays(4), 300, rnd);
      // A restart: the new compactor learns everything from one listing and recompacts nothing.
      int writes = sim.replica.writes.get();
      sim.compactor = new LevelSchedule(sim.replica, LevelConfig.defaults(), sim.clock, shm.path());
      sim.clock.advance(Duration.ofSeconds(1));
      sim.compactor.runDue();
      assertThat(sim.replica.writes.get()).isEqualTo(writes);
      sim.run(Duration.ofDays(18).plusHours(3), 300, rnd);
      sim.run(Duration.ofMinutes(20), 10, rnd); // busy: a level-0 file every 10 s
      sim.clock.advance(Duration.ofSeconds(10));
      sim.compactor.runDue();

      ReplicaFiles files = ReplicaFiles.list(sim.replica);
      Instant now = sim.clock.instant();
      // File counts stay bounded by the retention windows, not by how long the database has lived.
      assertThat(files.level(0).size()).isLessThanOrEqualTo(40);
      assertThat(files.level(1).size()).isLessThanOrEqualTo(360 + 40);
      assertThat(files.level(2).size()).isLessThanOrEqualTo(8640 + 300);
      assertThat(files.level(3).size()).isLessThanOrEqualTo(720 + 48);
      assertThat(files.level(9).size()).isBetween(30, 33);
      // Nothing older than retention survives beyond what a retained restore point needs (one day + slack).
      Instant oldestL2 = Instant.ofEpochMilli(files.level(2).getFirst().timestamp());
      assertThat(oldestL2).isAfter(now.minus(Duration.ofDays(32)));

      // Every restore point inside its level's retention window still plans, to the writer's checksum.
      Map<Integer, Duration> retention = Map.of(0, Duration.ofMinutes(5), 1, Duration.ofHours(1),
          2, Duration.ofDays(30), 3, Duration.ofDays(30), 9, Duration.ofDays(30));
      int planned = 0;
      List<Long> retained = new ArrayList<>();
      for (var e : sim.boundaries.entrySet()) {
        Instant cutoff = now.minus(retention.get(e.getKey()));
        for (var b : e.getValue().entrySet()) {
          if (b.getValue().isBefore(cutoff)) continue;
          RestorePlan p = RestorePlanner.plan(files, b.getKey());
          assertThat(p.expectedChecksum()).as("checksum at %s", Txid.format(b.getKey()))
              .isEqualTo(sim.checksums.get(b.getKey()));
          retained.add(b.getKey());
          planned++;
        }
      }
      assertThat(planned).isGreaterThan(6000);

      // Restore a sample for real, oldest retained point included, and compare with the writer's images.
      retained.sort(null);
      List<Long> sample = new ArrayList<>();
      for (int i = 0; i < retained.size(); i += retained.size() / 25) sample.add(retained.get(i));
      sample.add(retained.getFirst());
      sample.add(retained.getLast());
      sample.addAll(sim.images.keySet().stream().filter(retained::contains).limit(10).toList());
      int compared = 0;
      for (long txid : sample) {
        Path out = shm.path().resolve("restored-" + Txid.format(txid) + "-" + System.nanoTime());
        RestoreResult r = new RestoreExecutor(sim.replica, new RestoreExecutor.Options(4, IntegrityCheck.NONE,
            false, RestoreProgress.silent())).restore(RestorePlanner.plan(files, txid), out);
        assertThat(r.checksum()).isEqualTo(sim.checksums.get(txid));
        if (sim.images.containsKey(txid)) {
          assertThat(Files.readAllBytes(out)).isEqualTo(sim.images.get(txid));
          compared++;
        }
        Files.delete(out);
      }
      assertThat(compared).isPositive();

      // A restore 29 days back: one snapshot, then at most a day of hours, an hour of 5-minute files, and so on.
      long back = sim.boundaries.get(2).floorKey(sim.boundaries.get(2).entrySet().stream()
          .filter(e -> e.getValue().isAfter(now.minus(Duration.ofDays(29)))).findFirst().orElseThrow().getKey());
      assertPlanShape(RestorePlanner.plan(files, back));
      assertPlanShape(RestorePlanner.plan(files, files.maxTxid()));
    }
  }

  private static void assertPlanShape(RestorePlan p) {
    Map<Integer, Integer> perLevel = new TreeMap<>();
    for (LtxFileMeta f : p.files()) perLevel.merge(f.level(), 1, Integer::sum);
    assertThat(perLevel.getOrDefault(9, 0)).isLessThanOrEqualTo(1);
    assertThat(perLevel.getOrDefault(3, 0)).isLessThanOrEqualTo(24);
    assertThat(perLevel.getOrDefault(2, 0)).isLessThanOrEqualTo(12);
    assertThat(perLevel.getOrDefault(1, 0)).isLessThanOrEqualTo(30);
    assertThat(p.files().getFirst().minTxid()).isEqualTo(1);
  }

  @Test
  void idleReplicaGetsNoRequest() throws Exception {
    try (ShmDir shm = new ShmDir(tmp)) {
      Sim sim = new Sim(shm.path().resolve("replica"), shm.path());
      Random rnd = new Random(2);
      sim.snapshot(0);
      sim.run(Duration.ofMinutes(30), 10, rnd);
      sim.run(Duration.ofHours(26), 0, rnd); // compaction, a snapshot at midnight, retention of levels 0 and 1
      int before = sim.replica.total();
      sim.run(Duration.ofDays(3), 0, rnd); // idle: every step due, nothing to do
      assertThat(sim.replica.total()).isEqualTo(before);
    }
  }

  @Test
  void gapBridgedBySnapshotIsNeverMergedAcross() throws Exception {
    try (ShmDir shm = new ShmDir(tmp)) {
      Sim sim = new Sim(shm.path().resolve("replica"), shm.path());
      Random rnd = new Random(3);
      sim.snapshot(0);
      for (int i = 0; i < 5; i++) sim.write(1);
      long beforeBreak = sim.chain.txid();
      sim.snapshot(3);
      long snap = sim.chain.txid();
      for (int i = 0; i < 5; i++) sim.write(1);
      sim.run(Duration.ofMinutes(62), 0, rnd); // through the first hourly compaction, before level 1 expires
      ReplicaFiles files = ReplicaFiles.list(sim.replica);
      for (int level = 1; level <= 3; level++) {
        assertThat(files.level(level)).as("level %d", level)
            .allMatch(f -> f.maxTxid() <= beforeBreak || f.minTxid() == snap + 1)
            .anyMatch(f -> f.maxTxid() == beforeBreak)
            .anyMatch(f -> f.minTxid() == snap + 1);
      }
      assertThat(RestorePlanner.plan(files, beforeBreak).expectedChecksum())
          .isEqualTo(sim.checksums.get(beforeBreak));
      assertThat(RestorePlanner.plan(files, files.maxTxid()).expectedChecksum())
          .isEqualTo(sim.checksums.get(files.maxTxid()));
    }
  }

  @Test
  void unanchoredRunWaitsAndIsKept() throws Exception {
    try (ShmDir shm = new ShmDir(tmp)) {
      Sim sim = new Sim(shm.path().resolve("replica"), shm.path());
      Random rnd = new Random(4);
      sim.snapshot(0);
      sim.write(1);
      sim.run(Duration.ofMinutes(1), 0, rnd);
      // A level-0 file goes missing (never uploaded): the files after it cannot be compacted or restored.
      LtxFileMeta lost = sim.db.change(0, 1, 2);
      sim.replica.deleteFiles(0, List.of(lost.range()));
      sim.write(1);
      sim.write(1);
      sim.run(Duration.ofHours(3), 0, rnd);
      ReplicaFiles files = ReplicaFiles.list(sim.replica);
      assertThat(files.level(2).getLast().maxTxid()).isEqualTo(lost.minTxid() - 1);
      assertThat(files.level(0)).hasSize(2) // kept, never compacted past the gap
          .allMatch(f -> f.minTxid() > lost.maxTxid());
      // Once a snapshot bridges the gap (the agent's answer to a break), the waiting files are orphans.
      sim.snapshot(0);
      sim.write(1);
      sim.run(Duration.ofMinutes(10), 0, rnd);
      files = ReplicaFiles.list(sim.replica);
      assertThat(files.level(0)).isEmpty();
      assertThat(RestorePlanner.plan(files, files.maxTxid()).expectedChecksum()).isEqualTo(sim.chain.checksum());
    }
  }
}
