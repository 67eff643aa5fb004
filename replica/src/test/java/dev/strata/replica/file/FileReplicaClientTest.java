package dev.strata.replica.file;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.TestLtx;
import java.nio.file.Files;
import java.nio.file.Path;
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
}
