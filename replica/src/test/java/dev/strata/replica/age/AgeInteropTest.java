package dev.strata.replica.age;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.testing.AgeTestKeys;
import dev.strata.replica.testing.TestLtx;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encrypted replicas against the real {@code age} tool (Debian package {@code age}) both ways, and what happens to
 * damaged files and wrong or missing keys.
 */
class AgeInteropTest {
  @TempDir Path dir;
  AgeTestKeys key;
  Path root;

  @BeforeEach
  void setUp() {
    key = AgeTestKeys.create(dir.resolve("keys"), "key.txt");
    root = dir.resolve("replica");
  }

  private ReplicaClient encrypted() {
    return ReplicaUrl.open(key.addTo("file://" + root));
  }

  private Path stored(int level, TxidRange r) {
    return root.resolve(Integer.toString(level)).resolve(r.fileName());
  }

  private static byte[] read(ReplicaClient c, int level, TxidRange r, long offset) throws IOException {
    try (InputStream in = c.openFile(level, r, offset)) {
      return in.readAllBytes();
    }
  }

  private static boolean ageInstalled() {
    try {
      return new ProcessBuilder("age", "--version").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static byte[] run(byte[] stdin, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Thread feeder = Thread.ofVirtual().start(() -> {
      try (var out = p.getOutputStream()) {
        out.write(stdin);
      } catch (IOException ignored) {
        // the tool may exit before reading everything
      }
    });
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    feeder.join();
    assertThat(p.exitValue()).as(String.join(" ", command)).isZero();
    return out;
  }

  /** LTX files of 1, 2 (exactly 128 KiB of plaintext is not guaranteed, so sizes vary) and many chunks. */
  private static List<TestLtx> files() {
    return List.of(TestLtx.of(1, 5, 3, 1), TestLtx.of(6, 6, 40, 2), TestLtx.of(7, 9, 300, 3));
  }

  @Test
  void filesStrataWritesAreDecryptedByAge() throws Exception {
    assumeTrue(ageInstalled(), "the age tool is not installed (apt-get install age)");
    try (ReplicaClient c = encrypted()) {
      for (TestLtx f : files()) {
        c.writeFile(0, f.info(), f.stream(), f.size());
        Path p = stored(0, f.range());
        assertThat(Files.readAllBytes(p)).startsWith("age-encryption.org/v1\n".getBytes());
        byte[] plain = run(new byte[0], "age", "-d", "-i", key.identityFile().toString(), p.toString());
        assertThat(plain).as(f.range().fileName()).isEqualTo(f.bytes());
      }
    }
  }

  @Test
  void aPayloadOfWholeChunksRoundTripsBothWays() throws Exception {
    assumeTrue(ageInstalled(), "the age tool is not installed (apt-get install age)");
    for (int size : new int[] {0, 1, 65536, 65537, 131072}) {
      byte[] data = new byte[size];
      new java.util.Random(size).nextBytes(data);
      TxidRange r = new TxidRange(size + 1, size + 1);
      try (ReplicaClient c = encrypted()) {
        c.writeFile(1, TestLtx.fakeInfo(r.min(), r.max()), new ByteArrayInputStream(data), size);
        assertThat(run(new byte[0], "age", "-d", "-i", key.identityFile().toString(), stored(1, r).toString()))
            .as("size %d", size).isEqualTo(data);
        byte[] byAge = run(data, "age", "-r", key.recipient());
        Files.write(stored(1, r), byAge);
        assertThat(read(c, 1, r, 0)).as("size %d", size).isEqualTo(data);
        if (size > 0) assertThat(read(c, 1, r, size - 1)).containsExactly(data[size - 1]);
        assertThat(read(c, 1, r, size)).isEmpty();
      }
    }
  }

  @Test
  void filesAgeWritesAreReadByStrata() throws Exception {
    assumeTrue(ageInstalled(), "the age tool is not installed (apt-get install age)");
    AgeTestKeys other = AgeTestKeys.create(dir.resolve("keys"), "other.txt");
    List<TestLtx> files = files();
    for (TestLtx f : files) {
      Path p = stored(2, f.range());
      Files.createDirectories(p.getParent());
      // Two recipients, ours second: Strata must find its stanza among others.
      Files.write(p, run(f.bytes(), "age", "-r", other.recipient(), "-r", key.recipient()));
    }
    try (ReplicaClient c = encrypted()) {
      List<LtxFileMeta> listed = c.listFiles(2);
      assertThat(listed).hasSize(files.size());
      for (int i = 0; i < files.size(); i++) {
        TestLtx f = files.get(i);
        LtxFileMeta m = listed.get(i);
        assertThat(m.size()).isEqualTo(f.size());
        assertThat(m.postApplyChecksum()).isEqualTo(f.info().trailer().postApplyChecksum());
        assertThat(m.preApplyChecksum()).isEqualTo(f.info().header().preApplyChecksum());
        assertThat(read(c, 2, f.range(), 0)).isEqualTo(f.bytes());
        long mid = f.size() / 2;
        assertThat(read(c, 2, f.range(), mid)).isEqualTo(Arrays.copyOfRange(f.bytes(), (int) mid, f.bytes().length));
      }
    }
  }

  @Test
  void truncationAndBitFlipsAreCaughtNamingTheFile() throws Exception {
    TestLtx f = TestLtx.of(1, 9, 300, 4); // several chunks
    List<String> damages = List.of("cut1", "cutChunk", "flipMiddle", "flipHeader", "flipLast");
    for (String damage : damages) {
      try (ReplicaClient c = encrypted()) {
        c.writeFile(0, f.info(), f.stream(), f.size());
        Path p = stored(0, f.range());
        byte[] b = Files.readAllBytes(p);
        int headerEnd = new String(b, 0, 400, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("\n---") + 1;
        headerEnd = new String(b, 0, 400, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf('\n', headerEnd) + 1;
        switch (damage) {
          case "cut1" -> b = Arrays.copyOf(b, b.length - 1);
          case "cutChunk" -> b = Arrays.copyOf(b, headerEnd + 16 + 2 * (65536 + 16));
          case "flipMiddle" -> b[headerEnd + 16 + 65536 + 100] ^= 0x04;
          // in the MAC (a damaged stanza cannot be told from one for another key: "wrong identity")
          case "flipHeader" -> b[headerEnd - 6] = (byte) (b[headerEnd - 6] == 'A' ? 'B' : 'A');
          case "flipLast" -> b[b.length - 3] ^= (byte) 0x80;
          default -> throw new AssertionError(damage);
        }
        Files.write(p, b);
      }
      try (ReplicaClient c = encrypted()) {
        assertThatThrownBy(() -> read(c, 0, f.range(), 0)).as(damage).isInstanceOf(IOException.class)
            .isNotInstanceOf(AgeKeyException.class)
            .hasMessageContaining("0/" + f.range().fileName())
            .hasMessageMatching("(?s).*(truncated|authentication|MAC|malformed).*");
        // A listing reads the first and the last chunk: damage there lists the file bare (a restore planning on
        // it reads it and fails as above); damage in between is found by the read.
        if (!damage.equals("flipMiddle")) {
          assertThat(c.listFiles(0)).singleElement().satisfies(m -> assertThat(m.hasHeader()).isFalse());
        }
      }
    }
  }

  @Test
  void aWrongIdentitySaysSoInOneLine() throws Exception {
    TestLtx f = TestLtx.of(1, 2, 2, 5);
    try (ReplicaClient c = encrypted()) {
      c.writeFile(0, f.info(), f.stream(), f.size());
    }
    AgeTestKeys wrong = AgeTestKeys.create(dir.resolve("keys"), "wrong.txt");
    try (ReplicaClient c = ReplicaUrl.open("file://" + root + "?age-identity=" + wrong.identityFile())) {
      assertThatThrownBy(() -> c.listFiles(0)).isInstanceOf(AgeKeyException.class)
          .hasMessageStartingWith("wrong age identity: " + wrong.identityFile())
          .hasMessageContaining("0/" + f.range().fileName()).hasMessageNotContaining("\n");
      assertThatThrownBy(() -> c.openFile(0, f.range(), 0)).isInstanceOf(AgeKeyException.class);
    }
  }

  @Test
  void withoutAnIdentityAnEncryptedReplicaIsNamedAsSuch() throws Exception {
    TestLtx f = TestLtx.of(1, 2, 2, 6);
    try (ReplicaClient c = encrypted()) {
      c.writeFile(0, f.info(), f.stream(), f.size());
    }
    try (ReplicaClient c = AgeReplicaClient.wrap(new FileReplicaClient(root), AgeKeys.NONE)) {
      assertThatThrownBy(() -> read(c, 0, f.range(), 0)).isInstanceOf(AgeKeyException.class)
          .hasMessage(AgeReplicaClient.NO_IDENTITY);
    }
  }

  @Test
  void aWriteOnlyClientWritesAndListsButCannotRead() throws Exception {
    TestLtx a = TestLtx.of(1, 2, 2, 7), b = TestLtx.of(3, 4, 2, 8);
    try (ReplicaClient w = ReplicaUrl.open("file://" + root + "?age-recipient=" + key.recipient())) {
      w.writeFile(0, a.info(), a.stream(), a.size());
      w.writeFile(0, b.info(), b.stream(), b.size());
      assertThat(w.listFiles(0)).extracting(LtxFileMeta::range).containsExactly(a.range(), b.range());
      assertThat(w.listFiles(0)).allSatisfy(m -> assertThat(m.size()).isZero()); // unknown without the key
      assertThatThrownBy(() -> read(w, 0, a.range(), 0)).isInstanceOf(AgeKeyException.class)
          .hasMessage(AgeReplicaClient.NO_IDENTITY);
    }
    try (ReplicaClient c = encrypted()) {
      assertThat(read(c, 0, b.range(), 0)).isEqualTo(b.bytes());
    }
  }

  @Test
  void unencryptedFilesInAnEncryptedReplicaStayReadable() throws Exception {
    TestLtx old = TestLtx.of(1, 2, 2, 9), next = TestLtx.of(3, 4, 2, 10);
    try (ReplicaClient plain = new FileReplicaClient(root)) {
      plain.writeFile(0, old.info(), old.stream(), old.size());
    }
    try (ReplicaClient c = encrypted()) {
      c.writeFile(0, next.info(), next.stream(), next.size());
      List<LtxFileMeta> listed = c.listFiles(0);
      assertThat(listed).extracting(LtxFileMeta::size).containsExactly(old.size(), next.size());
      assertThat(read(c, 0, old.range(), 0)).isEqualTo(old.bytes());
      assertThat(read(c, 0, old.range(), 7)).isEqualTo(Arrays.copyOfRange(old.bytes(), 7, old.bytes().length));
      assertThat(read(c, 0, next.range(), 0)).isEqualTo(next.bytes());
    }
    assertThat(new String(Files.readAllBytes(stored(0, next.range())), 0, 21)).isEqualTo("age-encryption.org/v1");
    List<String> secretsInErrors = new ArrayList<>();
    try {
      ReplicaUrl.open("file://" + root + "?age-recipient=AGE-SECRET-KEY-1ABC");
    } catch (IllegalArgumentException e) {
      secretsInErrors.add(e.getMessage());
    }
    assertThat(secretsInErrors).singleElement().asString().doesNotContain("1ABC").contains("secret key");
  }
}
