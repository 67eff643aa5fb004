package dev.strata.cli;

import static dev.strata.cli.FollowFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata restore -f} end to end on remote replicas, as {@link FollowCommandTest} on a directory: a python
 * writer on a primary, a real {@code strata replicate} to S3 (S3Proxy) or SFTP (MINA SSHD), both servers in this
 * JVM, the follower, and python readers on its output that must only ever see whole commits. The follower catches
 * up once the writer stops, is killed with SIGKILL while the writer runs again, and the new process continues from
 * its state file (no new restore) and catches up again.
 */
class FollowRemoteTest {
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
  void followsAnS3ReplicaThroughAKill() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start()) {
      followsThroughAKill(s3.url("follow"));
    }
  }

  @Test
  void followsAnSftpReplicaThroughAKill() throws Exception {
    try (SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"))) {
      followsThroughAKill(sftp.url("/follow"));
    }
  }

  /** The whole run against the replica at {@code url}; the URL carries the credentials, for every process. */
  void followsThroughAKill(String url) throws Exception {
    Path primary = dir.resolve("primary.db");
    Path out = dir.resolve("follower.db");
    Path commits = dir.resolve("commits.txt");
    run.createPrimary(primary, commits);
    Process agent = run.launch("replicate.log", "replicate", "-sync-interval", "100ms", primary.toString(), url);
    awaitSnapshot(url, "replicate.log");

    // The first follower restores the empty tables, then follows the writer, readers on its output all along; it
    // must hold the primary's rows once the writer stops.
    Process follower = run.launch("follow1.log", "restore", "-f", "-o", out.toString(), url, "--interval", "200ms");
    run.awaitOutput(out, "follow1.log");
    Path stop = dir.resolve("stop");
    List<Process> readers = run.readers(out, stop);
    Process writer = run.writer(primary, 150, commits);
    await(writer);
    run.awaitCaughtUp(primary, out, "follow1.log");
    assertThat(Files.readString(dir.resolve("follow1.log"))).as("the first follower's log")
        .contains("restored TXID 0000000000000001"); // every commit of the writer's came by following

    // Killed while the writer runs again (maybe mid-batch), the follower continues from its state file.
    writer = run.writer(primary, 150, commits);
    Thread.sleep(1500);
    long killed = System.currentTimeMillis();
    follower.destroyForcibly();
    follower.waitFor();
    assertThat(dir.resolve("follower.db-strata-follow")).exists();
    follower = run.launch("follow2.log", "restore", "-f", "-o", out.toString(), url, "--interval", "200ms");
    run.awaitLog("follow2.log", "following");
    long restarted = System.currentTimeMillis();
    await(writer);
    run.awaitCaughtUp(primary, out, "follow2.log");
    assertThat(Files.readString(dir.resolve("follow2.log"))).as("the restarted follower's log")
        .contains("continued from follower.db-strata-follow")
        .doesNotContain("restored TXID")
        .doesNotContain("as a snapshot");

    Files.writeString(stop, "");
    for (Process r : readers) await(r);
    follower.destroy(); // SIGTERM: a clean exit
    assertThat(follower.waitFor(30, TimeUnit.SECONDS)).as("the follower exits after SIGTERM").isTrue();
    assertThat(follower.exitValue()).as(Files.readString(dir.resolve("follow2.log"))).isZero();
    agent.destroy();
    await(agent);

    run.checkReads(commits, killed, restarted);
    assertThat(ReplicateCommandTest.sqlite(out, "PRAGMA integrity_check")).isEqualTo("ok");
  }

  /** Waits for replication's first snapshot (level 9) at {@code url}: a follower needs one to start from. */
  void awaitSnapshot(String url, String log) throws Exception {
    try (ReplicaClient replica = ReplicaUrl.open(url)) {
      for (int i = 0; i < 300; i++) {
        if (!replica.listFiles(9).isEmpty()) return;
        Thread.sleep(100);
      }
    }
    throw new AssertionError("no snapshot at " + ReplicaUrl.redact(url) + " after 30 s; " + log + ":\n"
        + Files.readString(dir.resolve(log)));
  }
}
