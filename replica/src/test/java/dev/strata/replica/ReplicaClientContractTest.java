package dev.strata.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.testing.SlowWriter;
import dev.strata.replica.testing.TestLtx;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises of {@link ReplicaClient}, checked against each backend by a subclass that supplies a fresh, empty
 * replica root per test: its client, and its URL for child processes.
 */
public abstract class ReplicaClientContractTest {
  private static int roots;

  protected ReplicaClient client;
  protected String rootName;

  /** A client for a new, empty root called {@code name}. */
  protected abstract ReplicaClient open(String name) throws Exception;

  /** The replica URL of root {@code name}, for {@link ReplicaUrl#open} in a child process. */
  protected abstract String url(String name);

  /** True when listings carry the header fields (file, SFTP); S3 listings are bare. */
  protected abstract boolean listingCarriesHeader();

  /** Files written by the pagination test: over 1000 where a backend pages its listings. */
  protected int manyFiles() {
    return 1100;
  }

  /** Size and pause point of the file a killed child process was writing. */
  protected long[] killedWriteSizeAndPause() {
    return new long[] {4 << 20, 2 << 20};
  }

  /**
   * Checks that a writer killed mid-file really was mid-file: its partial upload (temporary file, open multipart
   * upload) is there, under a name no listing shows.
   */
  protected abstract void assertPartialWriteLeftOver(TxidRange range) throws Exception;

  @BeforeEach
  void openRoot() throws Exception {
    synchronized (ReplicaClientContractTest.class) {
      rootName = "root" + (++roots) + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    }
    client = open(rootName);
  }

  @AfterEach
  void closeRoot() throws Exception {
    if (client != null) client.close();
  }

  private static LtxFileMetaAssert meta(LtxFileMeta m) {
    return new LtxFileMetaAssert(m);
  }

  /** Checks header fields against the file written. */
  private record LtxFileMetaAssert(LtxFileMeta m) {
    void matches(int level, TestLtx f) {
      assertThat(m.level()).isEqualTo(level);
      assertThat(m.range()).isEqualTo(f.range());
      assertThat(m.size()).isEqualTo(f.size());
      assertThat(m.hasHeader()).isTrue();
      assertThat(m.pageSize()).isEqualTo(f.info().header().pageSize());
      assertThat(m.commit()).isEqualTo(f.info().header().commit());
      assertThat(m.timestamp()).isEqualTo(f.info().header().timestamp());
      assertThat(m.preApplyChecksum()).isEqualTo(f.info().header().preApplyChecksum());
      assertThat(m.postApplyChecksum()).isEqualTo(f.info().trailer().postApplyChecksum());
    }
  }

  private static byte[] readAll(ReplicaClient c, int level, TxidRange r, long offset) throws IOException {
    try (InputStream in = c.openFile(level, r, offset)) {
      return in.readAllBytes();
    }
  }

  private static void write(ReplicaClient c, int level, TestLtx f) throws IOException {
    LtxFileMeta m = c.writeFile(level, f.info(), f.stream(), f.size());
    assertThat(m.range()).isEqualTo(f.range());
    assertThat(m.size()).isEqualTo(f.size());
  }

  @Test
  void writeReadListDelete() throws Exception {
    TestLtx a = TestLtx.of(1, 3, 3, 1), b = TestLtx.of(4, 4, 2, 2), c = TestLtx.of(5, 9, 4, 3);
    TestLtx other = TestLtx.of(1, 9, 4, 4);
    write(client, 0, c);
    write(client, 0, a);
    write(client, 0, b);
    write(client, 1, other);

    List<LtxFileMeta> level0 = client.listFiles(0);
    assertThat(level0).extracting(LtxFileMeta::range).containsExactly(a.range(), b.range(), c.range());
    assertThat(level0).extracting(LtxFileMeta::size).containsExactly(a.size(), b.size(), c.size());
    assertThat(client.listFiles(1)).extracting(LtxFileMeta::range).containsExactly(other.range());
    assertThat(client.listFiles(2)).isEmpty();

    assertThat(readAll(client, 0, a.range(), 0)).isEqualTo(a.bytes());
    assertThat(readAll(client, 0, c.range(), 0)).isEqualTo(c.bytes());
    assertThat(readAll(client, 1, other.range(), 0)).isEqualTo(other.bytes());

    client.deleteFiles(0, List.of(a.range(), c.range(), new TxidRange(100, 200)));
    assertThat(client.listFiles(0)).extracting(LtxFileMeta::range).containsExactly(b.range());
    assertThat(client.listFiles(1)).hasSize(1);
    assertThatThrownBy(() -> client.openFile(0, a.range(), 0)).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> client.head(0, a.range())).isInstanceOf(NoSuchFileException.class);
    client.deleteFiles(0, List.of());
  }

  @Test
  void emptyRootListsNothing() throws Exception {
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) assertThat(client.listFiles(level)).isEmpty();
    assertThat(client.listChildren()).isEmpty();
    client.deleteFiles(3, List.of(new TxidRange(1, 1)));
    assertThatThrownBy(() -> client.openFile(0, new TxidRange(1, 1), 0)).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void metadataRoundTrip() throws Exception {
    TestLtx snapshot = TestLtx.of(1, 7, 5, 10), delta = TestLtx.of(8, 9, 2, 11);
    write(client, 9, snapshot);
    write(client, 9, delta);
    meta(client.head(9, snapshot.range())).matches(9, snapshot);
    meta(client.head(9, delta.range())).matches(9, delta);
    List<LtxFileMeta> listed = client.listFiles(9);
    assertThat(listed).hasSize(2);
    if (listingCarriesHeader()) {
      meta(listed.get(0)).matches(9, snapshot);
      meta(listed.get(1)).matches(9, delta);
    } else {
      assertThat(listed).allSatisfy(m -> assertThat(m.hasHeader()).isFalse());
    }
    assertThat(listed.get(0).createdAt()).isNotNull();
  }

  @Test
  void readResumesFromAnOffset() throws Exception {
    TestLtx f = TestLtx.of(2, 2, 30, 20);
    write(client, 0, f);
    for (long offset : new long[] {0, 1, 100, 4096, f.size() / 2, f.size() - 1}) {
      byte[] rest = readAll(client, 0, f.range(), offset);
      assertThat(rest).as("from %d", offset)
          .isEqualTo(java.util.Arrays.copyOfRange(f.bytes(), (int) offset, f.bytes().length));
    }
    assertThat(readAll(client, 0, f.range(), f.size())).isEmpty();
    assertThat(readAll(client, 0, f.range(), f.size() + 10)).isEmpty();
  }

  @Test
  void rewriteReplacesTheFile() throws Exception {
    TestLtx first = TestLtx.of(3, 4, 2, 30), second = TestLtx.of(3, 4, 3, 31);
    write(client, 2, first);
    write(client, 2, second);
    assertThat(client.listFiles(2)).singleElement().extracting(LtxFileMeta::size).isEqualTo(second.size());
    assertThat(readAll(client, 2, second.range(), 0)).isEqualTo(second.bytes());
  }

  @Test
  void dataOfTheWrongSizeIsRefusedAndLeavesNothing() throws Exception {
    TestLtx f = TestLtx.of(5, 5, 3, 40);
    assertThatThrownBy(() -> client.writeFile(0, f.info(), f.stream(), f.size() + 1))
        .isInstanceOf(IOException.class).hasMessageContaining("data ended");
    assertThatThrownBy(() -> client.writeFile(0, f.info(), f.stream(), f.size() - 1))
        .isInstanceOf(IOException.class).hasMessageContaining("longer than");
    assertThat(client.listFiles(0)).isEmpty();
    assertThatThrownBy(() -> client.head(0, f.range())).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void largeFileRoundTrip() throws Exception {
    int size = 12 << 20;
    byte[] data = new byte[size];
    new Random(50).nextBytes(data);
    var info = TestLtx.fakeInfo(1, 100);
    LtxFileMeta m = client.writeFile(3, info, new ByteArrayInputStream(data), size);
    assertThat(m.size()).isEqualTo(size);
    assertThat(client.listFiles(3)).singleElement().extracting(LtxFileMeta::size).isEqualTo((long) size);
    MessageDigest want = MessageDigest.getInstance("SHA-256"), got = MessageDigest.getInstance("SHA-256");
    want.update(data);
    try (InputStream in = client.openFile(3, m.range(), 0)) {
      byte[] buf = new byte[100_000];
      for (int n; (n = in.read(buf)) >= 0; ) got.update(buf, 0, n);
    }
    assertThat(got.digest()).isEqualTo(want.digest());
    assertThat(readAll(client, 3, m.range(), size - 5000)).isEqualTo(java.util.Arrays.copyOfRange(data, size - 5000,
        size));
  }

  @Test
  void listingAfterATxidReturnsOnlyLaterFilesWithTheirHeaders() throws Exception {
    List<TestLtx> files = List.of(TestLtx.of(1, 5, 1, 1), TestLtx.of(6, 6, 1, 2), TestLtx.of(7, 0x1f, 1, 3),
        TestLtx.of(0x20, 0x120, 1, 4));
    for (TestLtx f : files) write(client, 0, f);
    assertThat(client.listFilesAfter(0, 0)).extracting(LtxFileMeta::range)
        .containsExactlyElementsOf(files.stream().map(TestLtx::range).toList());
    assertThat(client.listFilesAfter(0, 6)).extracting(LtxFileMeta::range)
        .containsExactly(files.get(2).range(), files.get(3).range());
    assertThat(client.listFilesAfter(0, 0x1f)).extracting(LtxFileMeta::range).containsExactly(files.get(3).range());
    if (listingCarriesHeader()) meta(client.listFilesAfter(0, 0x1f).getFirst()).matches(0, files.get(3));
    assertThat(client.listFilesAfter(0, 0x120)).isEmpty();
    assertThat(client.listFilesAfter(0, 0x1000)).isEmpty();
    assertThat(client.listFilesAfter(3, 0)).isEmpty();
  }

  @Test
  void listingIsInTxidOrderAcrossPages() throws Exception {
    int n = manyFiles();
    List<TestLtx> files = new ArrayList<>();
    for (int i = 0; i < n; i++) files.add(TestLtx.of(i * 2L + 1, i * 2L + 2, 1, i));
    List<TestLtx> shuffled = new ArrayList<>(files);
    Collections.shuffle(shuffled, new Random(60));
    Semaphore slots = new Semaphore(8);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> done = new ArrayList<>();
      for (TestLtx f : shuffled) {
        done.add(pool.submit(() -> {
          slots.acquire();
          try {
            write(client, 1, f);
          } finally {
            slots.release();
          }
          return null;
        }));
      }
      for (Future<?> f : done) f.get();
    }
    List<LtxFileMeta> listed = client.listFiles(1);
    assertThat(listed).extracting(LtxFileMeta::range).containsExactlyElementsOf(files.stream().map(TestLtx::range)
        .toList());
    client.deleteFiles(1, files.stream().map(TestLtx::range).toList());
    assertThat(client.listFiles(1)).isEmpty();
  }

  /** A file and the level it is stored in. */
  private record Stored(int level, TestLtx file) {}

  @Test
  void listingAllLevelsEqualsListingEachLevel() throws Exception {
    List<Stored> stored = List.of(new Stored(0, TestLtx.of(4, 4, 2, 2)), new Stored(0, TestLtx.of(5, 9, 4, 3)),
        new Stored(1, TestLtx.of(1, 3, 3, 1)), new Stored(2, TestLtx.of(5, 9, 4, 3)),
        new Stored(9, TestLtx.of(1, 9, 4, 4)));
    for (Stored s : stored.reversed()) write(client, s.level(), s.file());
    // Children whose names sort before, among and after the level directories hold files that are not this root's.
    for (String child : new String[] {"-early", "3a", "zz"}) write(client.child(child), 0, TestLtx.of(20, 21, 1, 5));

    List<LtxFileMeta> each = new ArrayList<>();
    for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) each.addAll(client.listFiles(level));
    List<LtxFileMeta> all = client.listAllFiles();
    assertThat(all).isEqualTo(each);
    assertThat(all).extracting(f -> f.level() + "/" + f.range().fileName())
        .containsExactlyElementsOf(stored.stream().map(s -> s.level() + "/" + s.file().range().fileName()).toList());
    if (listingCarriesHeader()) meta(all.getLast()).matches(9, stored.getLast().file());
    assertThat(client.child("empty").listAllFiles()).isEmpty();
  }

  @Test
  void namesListedThenDescribedAreTheListingOfAllFiles() throws Exception {
    List<Stored> stored = List.of(new Stored(0, TestLtx.of(4, 4, 2, 2)), new Stored(0, TestLtx.of(5, 9, 4, 3)),
        new Stored(1, TestLtx.of(1, 3, 3, 1)), new Stored(9, TestLtx.of(1, 9, 4, 4)));
    for (Stored s : stored) write(client, s.level(), s.file());
    // Fresh clients: nothing is remembered of the files written.
    try (ReplicaClient listing = open(rootName); ReplicaClient naming = open(rootName)) {
      List<LtxFileMeta> all = listing.listAllFiles();
      List<LtxFileMeta> names = naming.listAllNames();
      assertThat(names).extracting(f -> f.level() + "/" + f.range().fileName())
          .containsExactlyElementsOf(all.stream().map(f -> f.level() + "/" + f.range().fileName()).toList());
      assertThat(naming.describeListed(List.of(names.get(1), names.getLast())))
          .isEqualTo(List.of(all.get(1), all.getLast()));
      assertThat(naming.describeListed(names)).isEqualTo(all);
    }
  }

  @Test
  void concurrentWritersOfDifferentFiles() throws Exception {
    int writers = 8, each = 5;
    List<TestLtx> files = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      for (int i = 0; i < each; i++) {
        long txid = 1000L * (w + 1) + i;
        files.add(TestLtx.of(txid, txid, 1 + (i % 3), txid));
      }
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(writers)) {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        List<TestLtx> mine = files.subList(w * each, (w + 1) * each);
        done.add(pool.submit(() -> {
          for (TestLtx f : mine) write(client, 0, f);
          return null;
        }));
      }
      for (Future<?> f : done) f.get();
    }
    List<LtxFileMeta> listed = client.listFiles(0);
    assertThat(listed).hasSize(writers * each);
    for (TestLtx f : files) assertThat(readAll(client, 0, f.range(), 0)).isEqualTo(f.bytes());
  }

  @Test
  void childrenShareTheConnectionAndStayInside() throws Exception {
    ReplicaClient a = client.child("cluster-a"), b = client.child("db_b.1");
    TestLtx f = TestLtx.of(1, 1, 1, 70);
    write(a, 0, f);
    write(b.child("inner"), 0, f);
    assertThat(client.listChildren()).containsExactly("cluster-a", "db_b.1");
    assertThat(b.listChildren()).containsExactly("inner");
    assertThat(a.listFiles(0)).hasSize(1);
    assertThat(client.listFiles(0)).isEmpty();
    assertThat(a.location()).startsWith(client.location()).endsWith("cluster-a");
  }

  @Test
  void namesThatEscapeTheRootAreRefused() {
    for (String bad : new String[] {"..", ".", "../x", "/etc", "a/b", "", ".hidden", "a\\b", "x y", "..."}) {
      assertThatThrownBy(() -> client.child(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid name");
    }
    assertThatThrownBy(() -> client.child(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> client.listFiles(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> client.listFiles(10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> client.openFile(10, new TxidRange(1, 1), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aKilledWriterLeavesNoFileUnderTheFinalName() throws Exception {
    long[] sp = killedWriteSizeAndPause();
    TxidRange range = new TxidRange(0x10, 0x20);
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), SlowWriter.class.getName(), url(rootName), "0",
        Long.toString(range.min()), Long.toString(range.max()), Long.toString(sp[0]), Long.toString(sp[1]))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    try {
      var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as("child writer output").isEqualTo("PAUSED");
      // The writer is mid-file: nothing may show under the final name, now or after a kill -9.
      assertThat(client.listFiles(0)).isEmpty();
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertPartialWriteLeftOver(range);
    assertThat(client.listFiles(0)).isEmpty();
    assertThatThrownBy(() -> client.head(0, range)).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> client.openFile(0, range, 0)).isInstanceOf(NoSuchFileException.class);

    // Left-overs do not get in the way of the next writer.
    TestLtx f = TestLtx.of(0x10, 0x20, 2, 80);
    write(client, 0, f);
    assertThat(client.listFiles(0)).extracting(LtxFileMeta::range).containsExactly(range);
    assertThat(readAll(client, 0, range, 0)).isEqualTo(f.bytes());
  }
}
