package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The writer's record of every commit it made, read from the oracle file it appends and fsyncs after each commit
 * (lines {@code C seq t0_us t1_us digest kind}; event lines {@code E …} are kept for post-mortems only).
 * Sequence numbers start at 1 and have no gaps, so commit {@code s} is {@code commits.get(s - 1)}.
 */
final class Oracle {
  /** One commit: its sequence number, wall clock just before COMMIT and just after, and content digest. */
  record Commit(long seq, long t0Micros, long t1Micros, String digest, String kind) {
    /** Just before COMMIT, milliseconds since the epoch. */
    long t0Millis() {
      return t0Micros / 1000;
    }

    /** Just after COMMIT returned, milliseconds since the epoch. */
    long t1Millis() {
      return t1Micros / 1000;
    }
  }

  private final Path file;
  private final List<Commit> commits = new ArrayList<>();
  private long readBytes;

  Oracle(Path file) {
    this.file = file;
  }

  /** Reads what the writer appended since the last call. */
  synchronized void refresh() throws IOException {
    if (!Files.exists(file)) return;
    byte[] fresh;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(readBytes);
      fresh = Channels.newInputStream(ch).readAllBytes();
    }
    int end = fresh.length;
    while (end > 0 && fresh[end - 1] != '\n') end--; // a line being appended right now
    String text = new String(fresh, 0, end, StandardCharsets.UTF_8);
    readBytes += end;
    for (String line : text.split("\n")) {
      if (!line.startsWith("C\t")) continue;
      String[] f = line.split("\t");
      Commit c = new Commit(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), f[4], f[5]);
      if (c.seq() != commits.size() + 1) {
        throw new IOException("oracle " + file + ": commit " + c.seq() + " follows " + commits.size());
      }
      commits.add(c);
    }
  }

  /** Commit {@code seq}, or null when the writer never made it. */
  synchronized Commit bySeq(long seq) {
    return seq >= 1 && seq <= commits.size() ? commits.get((int) seq - 1) : null;
  }

  /** The newest commit. */
  synchronized Commit last() {
    return commits.isEmpty() ? null : commits.getLast();
  }

  /** Commits recorded so far. */
  synchronized int size() {
    return commits.size();
  }

  /** The oracle file. */
  Path file() {
    return file;
  }
}
