package dev.strata.replica.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.strata.agent.testing.Sqlite;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalReaderTest {
  @TempDir Path dir;

  @Test
  void readsEveryCommitOfAWalWrittenBySqlite() throws Exception {
    Path db = dir.resolve("a.db");
    Sqlite.create(db);
    try (Connection c = Sqlite.connect(db)) {
      Sqlite.exec(c, "PRAGMA wal_autocheckpoint=0");
      Sqlite.insert(c, 10, 100);
      Sqlite.exec(c, "BEGIN; INSERT INTO t(v) VALUES ('a'); INSERT INTO t(v) VALUES ('b'); COMMIT");
      try (WalReader r = WalReader.open(walOf(db))) {
        WalHeader h = r.readHeader();
        assertThat(h.pageSize()).isEqualTo(4096);
        WalScan s = r.scan(h, 0, h.checksum());
        assertThat(s.commits()).isEqualTo(11);
        assertThat(s.endFrame()).isEqualTo(r.size() / h.frameSize());
        assertThat(s.commitSize()).isGreaterThanOrEqualTo(2);
        assertThat(s.smallestCommitSize()).isLessThanOrEqualTo(s.commitSize());
        // resuming from a commit frame finds exactly the rest
        long fifth = commitFrames(r, h, s)[4];
        WalScan rest = r.scan(h, fifth, r.readFrameHeader(h, fifth).checksum());
        assertThat(rest.commits()).isEqualTo(6);
        assertThat(r.frameMatches(h, fifth, r.readFrameHeader(h, fifth).checksum())).isTrue();
      }
    }
  }

  @Test
  void scansManyChunksIntoOneReusedBuffer() throws Exception {
    Path db = dir.resolve("e.db");
    Sqlite.create(db);
    try (Connection c = Sqlite.connect(db)) {
      Sqlite.exec(c, "PRAGMA wal_autocheckpoint=0");
      Sqlite.exec(c, "BEGIN");
      Sqlite.insert(c, 3000, 1000); // one commit of ~800 frames: over 3 MiB, read in doubling chunks
      Sqlite.exec(c, "COMMIT");
      Sqlite.insert(c, 400, 100);
      WalReader.ScanBuffer buffer = new WalReader.ScanBuffer();
      for (int pass = 0; pass < 2; pass++) {
        try (WalReader r = WalReader.open(walOf(db), buffer)) {
          WalHeader h = r.readHeader();
          WalScan s = r.scan(h, 0, h.checksum());
          assertThat(s.commits()).isEqualTo(401);
          assertThat(s.endFrame()).isEqualTo(r.size() / h.frameSize()).isGreaterThan(WalReader.CHUNK_BYTES / 4096 * 3);
          // limited to one frame, a scan still reads on to a commit (the big one), stops in the chunk that held it
          // and says there is more; the next scan continues exactly there
          WalScan first = r.scan(h, 0, h.checksum(), 1);
          assertThat(first.more()).isTrue();
          assertThat(first.commits()).isBetween(1, 400);
          assertThat(first.endFrame()).isLessThan(s.endFrame());
          WalScan second = r.scan(h, first.endFrame(), first.checksum(), Long.MAX_VALUE);
          assertThat(second.more()).isFalse();
          assertThat(first.commits() + second.commits()).isEqualTo(401);
          assertThat(second.endFrame()).isEqualTo(s.endFrame());
          assertThat(second.checksum()).isEqualTo(s.checksum());
        }
      }
    }
  }

  @Test
  void stopsBeforeAFrameWhoseChecksumFails() throws Exception {
    Path db = dir.resolve("b.db");
    Sqlite.create(db);
    try (Connection c = Sqlite.connect(db)) {
      Sqlite.exec(c, "PRAGMA wal_autocheckpoint=0");
      Sqlite.insert(c, 5, 100);
      WalHeader h;
      WalScan before;
      try (WalReader r = WalReader.open(walOf(db))) {
        h = r.readHeader();
        before = r.scan(h, 0, h.checksum());
      }
      long[] commitFrames;
      try (WalReader r = WalReader.open(walOf(db))) {
        commitFrames = commitFrames(r, h, before);
      }
      long third = commitFrames[2];
      try (RandomAccessFile f = new RandomAccessFile(walOf(db).toFile(), "rw")) {
        long off = h.frameOffset(third) + WalFrameHeader.SIZE + 100;
        f.seek(off);
        int b = f.read();
        f.seek(off);
        f.write(b ^ 0xFF);
      }
      try (WalReader r = WalReader.open(walOf(db))) {
        WalScan after = r.scan(h, 0, h.checksum());
        assertThat(after.commits()).isEqualTo(2);
        assertThat(after.endFrame()).isEqualTo(commitFrames[1]);
      }
    }
  }

  @Test
  void anUncommittedTailIsNeverReported() throws Exception {
    Path db = dir.resolve("c.db");
    Sqlite.create(db);
    try (Connection c = Sqlite.connect(db)) {
      Sqlite.exec(c, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=1");
      Sqlite.insert(c, 3, 100);
      long committedEnd;
      try (WalReader r = WalReader.open(walOf(db))) {
        WalHeader h = r.readHeader();
        committedEnd = r.scan(h, 0, h.checksum()).endFrame();
      }
      // a big transaction spills frames into the WAL before it commits
      Sqlite.exec(c, "BEGIN");
      Sqlite.insert(c, 2000, 1000);
      try (WalReader r = WalReader.open(walOf(db))) {
        WalHeader h = r.readHeader();
        assertThat(r.size()).isGreaterThan(h.frameOffset(committedEnd + 10));
        assertThat(r.scan(h, 0, h.checksum()).endFrame()).isEqualTo(committedEnd);
      }
      Sqlite.exec(c, "ROLLBACK");
    }
  }

  @Test
  void aWalThatIsNotARegularFileIsRefusedNotOpened() throws Exception {
    Path wal = dir.resolve("d.db-wal");
    assertThat(new ProcessBuilder("mkfifo", wal.toString()).start().waitFor()).isZero();
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> { // opening a FIFO waits for a writer
      assertThatThrownBy(() -> WalReader.open(wal)).isInstanceOf(IOException.class)
          .hasMessage(wal + " is not a regular file");
    });
  }

  @Test
  void rejectsAHeaderThatIsNotAWal() {
    byte[] b = WalHeader.encode(false, 4096, 0, 1, 2);
    b[3] = 0;
    assertThatThrownBy(() -> WalHeader.decode(b)).isInstanceOf(WalException.class).hasMessageContaining("magic");
    byte[] c = WalHeader.encode(true, 4096, 7, 1, 2);
    c[20] ^= 1;
    assertThatThrownBy(() -> WalHeader.decode(c)).hasMessageContaining("checksum");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(
        () -> WalHeader.decode(WalHeader.encode(true, 4096, 7, 1, 2)))).isNull();
  }

  /** The commit frames of {@code s}, found from the frame headers. */
  private static long[] commitFrames(WalReader r, WalHeader h, WalScan s) throws IOException {
    return java.util.stream.LongStream.rangeClosed(s.after() + 1, s.endFrame()).filter(n -> {
      try {
        return r.readFrameHeader(h, n).isCommit();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).toArray();
  }

  static Path walOf(Path db) {
    return db.resolveSibling(db.getFileName() + "-wal");
  }
}
