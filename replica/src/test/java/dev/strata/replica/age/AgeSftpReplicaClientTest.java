package dev.strata.replica.age;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaClientContractTest;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.testing.AgeTestKeys;
import dev.strata.replica.testing.SftpTestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The replica contract on an age-encrypted SFTP replica (MINA SSHD). */
class AgeSftpReplicaClientTest extends ReplicaClientContractTest {
  @TempDir static Path tmp;
  static SftpTestServer server;
  static AgeTestKeys key;

  @BeforeAll
  static void startServer() throws Exception {
    server = SftpTestServer.start(tmp.resolve("sftp-root"));
    key = AgeTestKeys.create(tmp.resolve("keys"), "key.txt");
  }

  @AfterAll
  static void stopServer() throws IOException {
    server.close();
  }

  @Override
  protected ReplicaClient open(String name) {
    return ReplicaUrl.open(url(name));
  }

  @Override
  protected String url(String name) {
    return key.addTo(server.url("/backups/" + name));
  }

  @Override
  protected boolean listingCarriesHeader() {
    return true;
  }

  @Override
  protected void assertPartialWriteLeftOver(TxidRange range) throws Exception {
    try (var files = Files.list(server.root().resolve("backups").resolve(rootName).resolve("0"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .startsWith("." + range.fileName() + ".tmp-");
    }
  }
}
