package dev.strata.bench;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import java.io.BufferedInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Measures the LTX codec on one thread (bin/bench-ltx): decode+verify, compaction and encode of a database-like
 * page set, each next to a plain read of the same files ({@code cat > /dev/null}). With {@code --big-only} it
 * instead compacts a 1 GiB database and reports the peak heap (run it with -Xmx64m to prove the bound).
 *
 * <p>Figures are medians of several rounds after a warm-up round, as wall-clock MB/s and as MB/s per CPU second of
 * this thread (the machine may be shared: CPU time is the per-core figure). MB are 10^6 bytes of page data.
 */
public final class LtxBench {
  private static final int PAGE_SIZE = 4096;
  private static final int LZ4 = LtxHeader.FLAG_COMPRESS_LZ4;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final Path dir;
  private final int rounds;
  private final PageSource source = new PageSource(42);

  private LtxBench(Path dir, int rounds) {
    this.dir = dir;
    this.rounds = rounds;
  }

  public static void main(String[] args) throws IOException {
    int rounds = 5, pages = 65536; // 65536 × 4 KiB = 256 MiB
    boolean big = false;
    Path parent = Path.of(System.getProperty("java.io.tmpdir"));
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--pages" -> pages = Integer.parseInt(args[++i]);
        case "--dir" -> parent = Path.of(args[++i]);
        case "--big-only" -> big = true;
        default -> throw new IllegalArgumentException("usage: LtxBench [--rounds N] [--pages N] [--dir DIR] [--big-only]");
      }
    }
    Path dir = Files.createTempDirectory(parent, "ltx-bench-");
    try {
      LtxBench bench = new LtxBench(dir, rounds);
      if (big) bench.bigCompaction(262144, 10);
      else bench.throughput(pages, 10);
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
      }
    }
  }

  // ---- throughput ----------------------------------------------------------------------------------------------

  private void throughput(int pages, int inputs) throws IOException {
    long pageBytes = (long) pages * PAGE_SIZE;
    System.out.printf("LTX codec benchmark: %d pages of %d bytes (%.0f MiB of page data), one thread, %s%n", pages,
        PAGE_SIZE, pageBytes / 1048576.0, environment());
    Path raw = dir.resolve("snapshot-raw.ltx"), lz4 = dir.resolve("snapshot-lz4.ltx");
    writeSnapshot(raw, 0, pages);
    writeSnapshot(lz4, LZ4, pages);
    List<Path> chain = writeChain(pages, inputs, "chain");
    long chainBytes = 0;
    for (Path p : chain) chainBytes += Files.size(p);
    System.out.printf("files: uncompressed %.1f MiB, LZ4 %.1f MiB (ratio %.2f), %d LZ4 inputs %.1f MiB%n%n",
        Files.size(raw) / 1048576.0, Files.size(lz4) / 1048576.0, (double) pageBytes / Files.size(lz4), inputs,
        chainBytes / 1048576.0);

    System.out.printf("%-44s %12s %12s %10s%n", "", "wall MB/s", "CPU MB/s", "x cat time");
    Result catRaw = measure("cat uncompressed file (baseline)", Files.size(raw), () -> cat(raw));
    print(catRaw, null);
    print(measure("decode+verify uncompressed", pageBytes, () -> verify(raw)), catRaw);
    Result catLz4 = measure("cat LZ4 file (baseline)", Files.size(lz4), () -> cat(lz4));
    print(catLz4, null);
    print(measure("decode+verify LZ4", pageBytes, () -> verify(lz4)), catLz4);

    Result catChain = measure("cat " + inputs + " LZ4 inputs (baseline)", chainBytes, () -> {
      for (Path p : chain) cat(p);
    });
    print(catChain, null);
    Path out = dir.resolve("compacted.ltx");
    print(measure("compact " + inputs + " LZ4 inputs -> LZ4", pageBytes, () -> compact(chain, out)), catChain);

    Path encoded = dir.resolve("encoded.ltx");
    Result write = measure("write " + (pageBytes >> 20) + " MiB to a file (baseline)", pageBytes,
        () -> writeBytes(encoded, pageBytes));
    print(write, null);
    print(measure("encode uncompressed", pageBytes, () -> writeSnapshot(encoded, 0, pages)), write);
    print(measure("encode LZ4", pageBytes, () -> writeSnapshot(encoded, LZ4, pages)), write);
  }

  /** A snapshot of pages 1..pages; returns what was written. */
  private LtxFileInfo writeSnapshot(Path path, int flags, int pages) throws IOException {
    try (OutputStream out = new FileOutputStream(path.toFile())) {
      LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(flags, PAGE_SIZE, pages, 1, 1, 0, 0));
      byte[] page = new byte[PAGE_SIZE];
      for (int pgno = 1; pgno <= pages; pgno++) {
        source.fill(pgno, page);
        enc.encodePage(pgno, page);
      }
      return new LtxFileInfo(enc.header(), enc.finish(enc.pagesChecksum()), enc.pageCount());
    }
  }

  /**
   * A database growing in {@code count} transactions: a snapshot of the first slice of pages, then files that each
   * append the next slice. Compacted together they give a snapshot of all pages, so every input page is decoded,
   * verified and encoded once.
   */
  private List<Path> writeChain(int pages, int count, String name) throws IOException {
    List<Path> files = new ArrayList<>();
    long database = Checksum.EMPTY_DATABASE;
    byte[] page = new byte[PAGE_SIZE];
    for (int i = 0; i < count; i++) {
      int first = (int) ((long) pages * i / count) + 1, last = (int) ((long) pages * (i + 1) / count);
      Path path = dir.resolve(String.format("%s-%02d.ltx", name, i));
      try (OutputStream out = new FileOutputStream(path.toFile())) {
        long pre = i == 0 ? 0 : database;
        LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(LZ4, PAGE_SIZE, last, i + 1, i + 1, i, pre));
        for (int pgno = first; pgno <= last; pgno++) {
          source.fill(pgno, page);
          enc.encodePage(pgno, page);
        }
        database = Checksum.FLAG | (database ^ enc.pagesChecksum()); // new pages only: add their checksums
        enc.finish(database);
      }
      files.add(path);
    }
    return files;
  }

  private static LtxFileInfo compact(List<Path> inputs, Path out) throws IOException {
    List<InputStream> in = new ArrayList<>();
    for (Path p : inputs) in.add(new FileInputStream(p.toFile()));
    try (OutputStream o = new FileOutputStream(out.toFile())) {
      return LtxCompactor.lz4().compact(in, o);
    }
  }

  private static void verify(Path path) throws IOException {
    LtxDecoder.verify(new BufferedInputStream(new FileInputStream(path.toFile()), 64 * 1024));
  }

  /** The baseline: read the file into a buffer and do nothing with it. */
  private static void cat(Path path) throws IOException {
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = new FileInputStream(path.toFile())) {
      while (in.read(buf) >= 0) {
        // discard
      }
    }
  }

  private static void writeBytes(Path path, long n) throws IOException {
    byte[] buf = new byte[64 * 1024];
    Arrays.fill(buf, (byte) 'x');
    try (OutputStream out = new FileOutputStream(path.toFile())) {
      for (long left = n; left > 0; left -= buf.length) out.write(buf, 0, (int) Math.min(buf.length, left));
    }
  }

  // ---- peak heap -----------------------------------------------------------------------------------------------

  private void bigCompaction(int pages, int inputs) throws IOException {
    long pageBytes = (long) pages * PAGE_SIZE;
    System.out.printf("%nPeak heap: compaction of %d LZ4 inputs into a %.0f MiB database (%d pages of %d bytes), "
        + "max heap %d MiB, %s%n", inputs, pageBytes / 1048576.0, pages, PAGE_SIZE,
        Runtime.getRuntime().maxMemory() >> 20, environment());
    List<Path> chain = writeChain(pages, inputs, "big");
    long chainBytes = 0;
    for (Path p : chain) chainBytes += Files.size(p);
    System.out.printf("inputs: %.1f MiB on disk%n", chainBytes / 1048576.0);

    System.gc();
    List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).toList();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) THREADS;
    long allocated = threads.getCurrentThreadAllocatedBytes(), cpu = THREADS.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    Path out = dir.resolve("big-compacted.ltx");
    LtxFileInfo info = compact(chain, out);
    double wall = (System.nanoTime() - start) / 1e9, cpuSeconds = (THREADS.getCurrentThreadCpuTime() - cpu) / 1e9;
    allocated = threads.getCurrentThreadAllocatedBytes() - allocated;

    long peakSum = 0;
    StringBuilder pools = new StringBuilder();
    for (MemoryPoolMXBean p : heap) {
      long peak = p.getPeakUsage().getUsed();
      peakSum += peak;
      pools.append(String.format("%s %.1f MiB, ", p.getName(), peak / 1048576.0));
    }
    LtxFileInfo check = LtxDecoder.verify(new FileInputStream(out.toFile()));
    System.out.printf("compaction: %.1f s wall, %.0f MB/s wall, %.0f MB/s CPU; output %.1f MiB, %d pages, verified%n",
        wall, pageBytes / wall / 1e6, pageBytes / cpuSeconds / 1e6, Files.size(out) / 1048576.0, check.pageCount());
    System.out.printf("peak heap during compaction: %.1f MiB (sum of pool peaks: %s)%n", peakSum / 1048576.0,
        pools.substring(0, pools.length() - 2));
    System.out.printf("allocated by the compacting thread: %.1f MiB (%.0f bytes per page)%n", allocated / 1048576.0,
        (double) allocated / pages);
    if (info.pageCount() != pages || !check.trailer().equals(info.trailer())) {
      throw new IllegalStateException("compaction output does not match: " + info + " vs " + check);
    }
  }

  // ---- measuring -----------------------------------------------------------------------------------------------

  /** An operation measured. */
  interface Op {
    void run() throws IOException;
  }

  /** Median wall and CPU seconds of an operation processing {@code bytes}. */
  record Result(String name, long bytes, double wallSeconds, double cpuSeconds) {
    double wallMBs() {
      return bytes / wallSeconds / 1e6;
    }

    double cpuMBs() {
      return bytes / cpuSeconds / 1e6;
    }
  }

  private Result measure(String name, long bytes, Op op) throws IOException {
    op.run(); // warm-up: JIT, page cache
    double[] wall = new double[rounds], cpu = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      long c = THREADS.getCurrentThreadCpuTime(), t = System.nanoTime();
      op.run();
      wall[i] = (System.nanoTime() - t) / 1e9;
      cpu[i] = (THREADS.getCurrentThreadCpuTime() - c) / 1e9;
    }
    Arrays.sort(wall);
    Arrays.sort(cpu);
    return new Result(name, bytes, wall[rounds / 2], cpu[rounds / 2]);
  }

  private static void print(Result r, Result baseline) {
    String ratio = baseline == null ? "" : String.format("%.1f", r.wallSeconds() / baseline.wallSeconds());
    System.out.printf("%-44s %12.0f %12.0f %10s%n", r.name(), r.wallMBs(), r.cpuMBs(), ratio);
  }

  private static String environment() {
    return "Java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, lz4 "
        + net.jpountz.lz4.LZ4Factory.fastestInstance();
  }

  /**
   * Database-like pages: a SQLite-ish page header and cell pointers, then text rows (ids, names, e-mail addresses,
   * dates, amounts) drawn from a small vocabulary, which compress about as well as real table pages. A pool of
   * distinct pages is built once and reused (more than LZ4's 64 KiB window apart), so generation costs a copy.
   */
  static final class PageSource {
    private static final String[] WORDS = ("alice bob carol dave erin frank grace heidi ivan judy mallory niaj "
        + "olivia peggy rupert sybil trent victor walter zoe london paris berlin madrid rome oslo tokyo lima quito "
        + "cairo order invoice payment refund shipped pending cancelled delivered widget gadget sprocket gizmo "
        + "doohickey premium basic standard").split(" ");
    private final byte[][] pool = new byte[1024][];

    PageSource(long seed) {
      Random r = new Random(seed);
      for (int i = 0; i < pool.length; i++) pool[i] = page(r);
    }

    private static byte[] page(Random r) {
      byte[] p = new byte[PAGE_SIZE];
      p[0] = 0x0d; // table leaf
      StringBuilder rows = new StringBuilder();
      while (rows.length() < PAGE_SIZE - 200) {
        String name = WORDS[r.nextInt(20)];
        rows.append(r.nextInt(1_000_000)).append('|').append(name).append(' ').append(WORDS[r.nextInt(WORDS.length)])
            .append('|').append(name).append('.').append(r.nextInt(1000)).append("@example.com|2024-")
            .append(1 + r.nextInt(12)).append('-').append(1 + r.nextInt(28)).append('|')
            .append(r.nextInt(100000) / 100.0).append('|').append(WORDS[20 + r.nextInt(WORDS.length - 20)])
            .append('\n');
      }
      byte[] text = rows.toString().getBytes(StandardCharsets.US_ASCII);
      int cells = Math.min(text.length / 60, (PAGE_SIZE - text.length - 8) / 2);
      for (int c = 0; c < cells; c++) { // cell pointer array: ascending offsets
        int off = PAGE_SIZE - text.length + c * 60;
        p[8 + 2 * c] = (byte) (off >>> 8);
        p[9 + 2 * c] = (byte) off;
      }
      System.arraycopy(text, 0, p, PAGE_SIZE - text.length, text.length);
      return p;
    }

    /** The content of page {@code pgno}: a pool page with the page number stamped in. */
    void fill(int pgno, byte[] page) {
      System.arraycopy(pool[(int) ((pgno * 2654435761L) >>> 22) & (pool.length - 1)], 0, page, 0, PAGE_SIZE);
      page[4] = (byte) (pgno >>> 24);
      page[5] = (byte) (pgno >>> 16);
      page[6] = (byte) (pgno >>> 8);
      page[7] = (byte) pgno;
    }
  }
}
