package dev.strata.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The LTX files of a replica directory ({@code <root>/<level>/<min>-<max>.ltx}) checked as a chain: the newest
 * level-9 snapshot, then level-0 files whose TXIDs and checksums continue it without a gap. Also applies the chain
 * page by page to a file, so a test can compare the result with the source database before restore exists.
 */
public final class Chain {
  /** One file of a chain. */
  public record Link(int level, Path path, LtxHeader header, LtxTrailer trailer) {}

  private final List<Link> links;

  private Chain(List<Link> links) {
    this.links = links;
  }

  /** Reads and verifies every file of levels 0 and 9 under {@code root}. */
  public static List<Link> files(Path root, int level) throws IOException {
    Path dir = root.resolve(Integer.toString(level));
    List<Link> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) return out;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".ltx")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(p)) {
          var info = LtxDecoder.verify(in);
          out.add(new Link(level, p, info.header(), info.trailer()));
        }
      }
    }
    out.sort(Comparator.comparing((Link l) -> l.header().maxTxid()));
    return out;
  }

  /**
   * The chain from the newest snapshot to the newest level-0 file, asserting contiguity: each file starts at the
   * previous MaxTXID + 1 with PreApplyChecksum equal to the previous PostApplyChecksum. Level-0 files before the
   * snapshot must chain too (checked from the first snapshot on).
   */
  public static Chain of(Path root) throws IOException {
    List<Link> snapshots = files(root, 9);
    List<Link> l0 = files(root, 0);
    assertThat(snapshots).as("snapshots in " + root).isNotEmpty();
    // every level-0 file continues either the previous level-0 file or a snapshot
    Link prev = null;
    for (Link f : l0) {
      long min = f.header().minTxid();
      Link base = prev != null && prev.header().maxTxid() + 1 == min ? prev : null;
      if (base == null) {
        base = snapshots.stream().filter(s -> s.header().maxTxid() + 1 == min).findFirst().orElse(null);
      }
      assertThat(base).as("level-0 file " + f.path().getFileName() + " continues a file or a snapshot").isNotNull();
      assertThat(Checksum.format(f.header().preApplyChecksum())).as("pre-apply of " + f.path().getFileName())
          .isEqualTo(Checksum.format(base.trailer().postApplyChecksum()));
      prev = f;
    }
    Link snap = snapshots.getLast();
    List<Link> links = new ArrayList<>();
    links.add(snap);
    for (Link f : l0) if (f.header().minTxid() > snap.header().maxTxid()) links.add(f);
    for (int i = 1; i < links.size(); i++) {
      assertThat(Txid.format(links.get(i).header().minTxid()))
          .isEqualTo(Txid.format(links.get(i - 1).header().maxTxid() + 1));
    }
    return new Chain(links);
  }

  /** The files, snapshot first. */
  public List<Link> links() {
    return links;
  }

  /** The last TXID of the chain. */
  public long maxTxid() {
    return links.getLast().header().maxTxid();
  }

  /** The database checksum after the last file. */
  public long postApplyChecksum() {
    return links.getLast().trailer().postApplyChecksum();
  }

  /** Writes the database the chain describes to {@code out}: pages in order, truncated to each commit. */
  public void applyTo(Path out) throws IOException {
    Files.deleteIfExists(out);
    try (RandomAccessFile f = new RandomAccessFile(out.toFile(), "rw")) {
      for (Link l : links) {
        try (LtxDecoder d = new LtxDecoder(Files.newInputStream(l.path()))) {
          int ps = d.header().pageSize();
          byte[] page = new byte[ps];
          for (int pgno; (pgno = d.readPage(page)) != 0; ) {
            f.seek((long) (pgno - 1) * ps);
            f.write(page);
          }
          d.finish();
          f.setLength((long) d.header().commit() * ps);
        }
      }
    }
  }
}
