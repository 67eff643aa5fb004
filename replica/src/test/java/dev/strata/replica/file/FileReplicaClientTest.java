package dev.strata.replica.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.strata.ltx.LtxFileName;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.TestLtx;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract on a local directory, plus what only the file backend promises. */
class FileReplicaClientTest extends ReplicaClientContractTest {
  @TempDir static Path dir;

  @Override
  protected ReplicaClient open(String name) {
    return ReplicaUrl.open(url(name));
  }

  @Override
  protected String url(String name) {
    return "file://" + dir.resolve(name);
  }

  @Override
  protected boolean listingCarriesHeader() {
    return true;
  }

  @Override
  protected void assertPartialWriteLeftOver(TxidRange range) throws Exception {
    try (var files = Files.list(dir.resolve(rootName).resolve("0"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .startsWith("." + range.fileName() + ".tmp-");
    }
  }

  @Test
  void writesLeaveNoTemporaryFiles() throws Exception {
    TestLtx f = TestLtx.of(1, 2, 2, 1);
    client.writeFile(0, f.info(), f.stream(), f.size());
    try (var files = Files.list(dir.resolve(rootName).resolve("0"))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly(f.range().fileName());
    }
  }

  @Test
  void aDamagedFileIsListedBare() throws Exception {
    TestLtx f = TestLtx.of(1, 2, 2, 1);
    client.writeFile(0, f.info(), f.stream(), f.size());
    Path p = dir.resolve(rootName).resolve("0").resolve(f.range().fileName());
    byte[] b = Files.readAllBytes(p);
    b[0] = 'X';
    Files.write(p, b);
    assertThat(client.listFiles(0)).singleElement().satisfies(m -> assertThat(m.hasHeader()).isFalse());
  }

  /** An entry named like the next level-0 file, made by {@code make}. */
  private Path foreign(long txid) {
    return dir.resolve(rootName).resolve("0").resolve(new TxidRange(txid, txid).fileName());
  }

  private static void run(String... command) throws Exception {
    assertThat(new ProcessBuilder(command).inheritIO().start().waitFor()).isZero();
  }

  /** Listing, head and open of a foreign entry fail at once, with its name and what it is. */
  private void assertRefused(Path entry, String what) {
    TxidRange range = LtxFileName.parse(entry.getFileName().toString());
    String message = "file replica " + dir.resolve(rootName) + ": 0/" + range.fileName() + " is " + what
        + ", not a regular file; only strata's own files belong in a replica";
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      assertThatThrownBy(() -> client.listFiles(0)).isInstanceOf(IOException.class).hasMessage(message);
      assertThatThrownBy(() -> client.head(0, range)).isInstanceOf(IOException.class).hasMessage(message);
      assertThatThrownBy(() -> client.openFile(0, range, 0)).isInstanceOf(IOException.class).hasMessage(message);
    });
  }

  @Test
  void specialFilesNamedLikeLtxFilesAreRefusedNotOpened() throws Exception {
    TestLtx f = TestLtx.of(1, 4, 2, 1);
    client.writeFile(0, f.info(), f.stream(), f.size());

    Path fifo = foreign(5);
    run("mkfifo", fifo.toString()); // opening it for reading would wait for a writer forever
    assertRefused(fifo, "a FIFO");
    Files.delete(fifo);

    Path socket = foreign(5);
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(socket));
      assertRefused(socket, "a socket");
    }
    Files.delete(socket);

    Path directory = Files.createDirectory(foreign(5));
    assertRefused(directory, "a directory");
    Files.delete(directory);

    assertThat(client.listFiles(0)).extracting(m -> m.range()).containsExactly(f.range());
  }

  @Test
  void symbolicLinksBelowTheRootAreRefused() throws Exception {
    // A valid LTX file outside the replica, linked in under the next file's name.
    TestLtx f = TestLtx.of(1, 1, 2, 1);
    Path outside = dir.resolve("outside-" + rootName + ".ltx");
    try (var in = f.stream()) {
      Files.copy(in, outside);
    }
    Files.createDirectories(foreign(1).getParent());
    Path link = Files.createSymbolicLink(foreign(1), outside);
    assertRefused(link, "a symbolic link");
    Files.delete(link);

    // A level directory linked elsewhere: nothing is read, written or deleted through it.
    Path levelDir = dir.resolve(rootName).resolve("0");
    Files.delete(levelDir);
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere-" + rootName));
    Files.createSymbolicLink(levelDir, elsewhere);
    String message = "file replica " + dir.resolve(rootName) + ": 0 is a symbolic link, not a directory; only "
        + "strata's own files belong in a replica";
    assertThatThrownBy(() -> client.listFiles(0)).hasMessage(message);
    assertThatThrownBy(() -> client.head(0, f.range())).hasMessage(message);
    assertThatThrownBy(() -> client.openFile(0, f.range(), 0)).hasMessage(message);
    assertThatThrownBy(() -> client.writeFile(0, f.info(), f.stream(), f.size())).hasMessage(message);
    assertThatThrownBy(() -> client.deleteFiles(0, List.of(f.range()))).hasMessage(message);
    try (var files = Files.list(elsewhere)) {
      assertThat(files).isEmpty();
    }
    Files.delete(levelDir);

    // The root itself may be a link (to another disk, say).
    Path linkedRoot = Files.createSymbolicLink(dir.resolve("linked-" + rootName), dir.resolve(rootName));
    try (ReplicaClient c = ReplicaUrl.open(linkedRoot.toString())) {
      c.writeFile(0, f.info(), f.stream(), f.size());
      assertThat(c.listFiles(0)).extracting(m -> m.range()).containsExactly(f.range());
    }
  }
}
