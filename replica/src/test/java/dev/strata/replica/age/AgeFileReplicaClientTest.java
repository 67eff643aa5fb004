package dev.strata.replica.age;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.AgeTestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The replica contract on an age-encrypted directory replica. */
class AgeFileReplicaClientTest extends ReplicaClientContractTest {
  @TempDir static Path dir;
  static AgeTestKeys key;

  @BeforeAll
  static void keys() {
    key = AgeTestKeys.create(dir.resolve("keys"), "key.txt");
  }

  @Override
  protected ReplicaClient open(String name) {
    ReplicaClient c = ReplicaUrl.open(url(name));
    assertThat(c).isInstanceOf(AgeReplicaClient.class);
    return c;
  }

  @Override
  protected String url(String name) {
    return key.addTo("file://" + dir.resolve(name));
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
}
