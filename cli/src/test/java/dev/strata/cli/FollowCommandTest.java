package dev.strata.cli;

import static dev.strata.cli.FollowFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata restore -f} end to end, every part a real process: a python writer on a primary replicated by
 * {@code strata replicate}, the follower, and python readers on the follower's output checking that every read
 * transaction sees one of the writer's commits whole (the row count is one the writer recorded, and equals the
 * total written in the same transaction), with quick_checks between. The follower is killed with SIGKILL and
 * restarted (it continues from its state file), and the primary's WAL is checkpointed away while replication is
 * down (a new snapshot in the replica, applied as a snapshot). {@link FollowRemoteTest} does the same on S3 and SFTP.
 */
class FollowCommandTest {
  @TempDir Path dir;
  FollowFixture run;

  @BeforeEach
  void setUp() {
    run = new FollowFixture(dir);
  }

  @AfterEach
  void tearDown() {
    run.close();
  }

  @Test
  void followsAReplicaThroughAKillAndANewSnapshotWithoutTornReads() throws Exception {
    Path primary = dir.resolve("primary.db");
    Path replica = dir.resolve("replica");
    Path out = dir.resolve("follower.db");
    Path commits = dir.resolve("commits.txt");
    run.createPrimary(primary, commits);
    Process agent = run.launch("replicate.log", "replicate", "-sync-interval", "100ms", primary.toString(),
        replica.toString());
    ReplicateCommandTest.awaitFile(replica.resolve("9"));
    Process writer = run.writer(primary, 400, commits);
    Process follower = run.launch("follow1.log", "restore", "-f", "-o", out.toString(), replica.toString(),
        "--interval", "100ms");
    run.awaitOutput(out, "follow1.log");
    Path stop = dir.resolve("stop");
    List<Process> readers = run.readers(out, stop);

    Thread.sleep(3000);
    long killed = System.currentTimeMillis();
    follower.destroyForcibly(); // SIGKILL, maybe mid-batch
    follower.waitFor();
    assertThat(dir.resolve("follower.db-strata-follow")).exists();
    follower = run.launch("follow2.log", "restore", "-f", "-o", out.toString(), replica.toString(), "--interval",
        "100ms");
    run.awaitLog("follow2.log", "following");
    long restarted = System.currentTimeMillis();
    await(writer);
    run.awaitCaughtUp(primary, out, "follow2.log");
    assertThat(Files.readString(dir.resolve("follow2.log"))).contains("continued from follower.db-strata-follow")
        .doesNotContain("restored TXID");

    // A continuity break: replication stops, the WAL is checkpointed away under it, and it starts again.
    agent.destroy();
    await(agent);
    await(run.writer(primary, 5, commits, "checkpoint"));
    agent = run.launch("replicate2.log", "replicate", "-sync-interval", "100ms", primary.toString(),
        replica.toString());
    await(run.writer(primary, 30, commits));
    run.awaitCaughtUp(primary, out, "follow2.log");
    assertThat(Files.readString(dir.resolve("follow2.log"))).contains("as a snapshot");

    Files.writeString(stop, "");
    for (Process r : readers) await(r);
    follower.destroy(); // SIGTERM: a clean exit
    assertThat(follower.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(follower.exitValue()).as(Files.readString(dir.resolve("follow2.log"))).isZero();
    agent.destroy();
    await(agent);

    run.checkReads(commits, killed, restarted);
    assertThat(ReplicateCommandTest.sqlite(out, "PRAGMA integrity_check")).isEqualTo("ok");
    assertThat(FollowFixture.digest(out)).isEqualTo(FollowFixture.digest(primary));
  }
}
