package dev.strata.bench;

import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.testing.FaultProxy;
import dev.strata.replica.testing.S3ProxyServer;
import dev.strata.replica.testing.SftpTestServer;
import dev.strata.replica.testing.TestLtx;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * Replica backend figures on loopback, each against a baseline measured in the same run:
 *
 * <ol>
 *   <li>upload and download throughput of one large file (default 256 MiB) per backend, against {@code cp} of the
 *       same file (median of three runs each);
 *   <li>requests sent per 1000 small writes (counted at a proxy in front of S3Proxy, and at the SFTP server), and
 *       requests sent while idle afterwards;
 *   <li>peak heap of a child JVM with a small {@code -Xmx} uploading 1 GiB of generated data per backend.
 * </ol>
 *
 * Usage: {@code bin/bench-replica [--size-mib N] [--big-mib N] [--xmx 64m] [--runs 3] [--dir DIR]}.
 */
public final class ReplicaBench {
  private static final double MB = 1e6;

  private ReplicaBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("upload-child")) {
      uploadChild(args[1], Long.parseLong(args[2]));
      return;
    }
    long size = 256L << 20;
    long big = 1L << 30;
    String xmx = "64m";
    int runs = 3;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "strata-replica-bench-" + ProcessHandle.current().pid());
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--size-mib" -> size = Long.parseLong(args[i + 1]) << 20;
        case "--big-mib" -> big = Long.parseLong(args[i + 1]) << 20;
        case "--xmx" -> xmx = args[i + 1];
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (want --size-mib, --big-mib, --xmx, --runs, --dir)");
      }
    }
    Files.createDirectories(dir);
    try (S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3"));
        SftpTestServer sftp = SftpTestServer.start(dir.resolve("sftp"))) {
      System.out.printf(Locale.ROOT, "replica bench: %d MiB file, %d run(s) each, loopback, JDK %s, %d cores%n",
          size >> 20, runs, Runtime.version(), Runtime.getRuntime().availableProcessors());
      throughput(dir, size, runs, s3, sftp);
      requestCounts(s3, sftp);
      heap(dir, big, xmx, s3, sftp);
    } finally {
      DirectoryTree.delete(dir);
    }
  }

  // ---- 1. throughput ----

  private static void throughput(Path dir, long size, int runs, S3ProxyServer s3, SftpTestServer sftp)
      throws Exception {
    Path src = dir.resolve("source.bin");
    writeRandomFile(src, size);
    byte[] want = sha256(src);
    Path copy = dir.resolve("copy.bin");
    double[] cp = new double[runs];
    for (int r = 0; r < runs; r++) {
      Files.deleteIfExists(copy);
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder("cp", src.toString(), copy.toString()).inheritIO().start();
      if (p.waitFor() != 0) throw new IOException("cp failed");
      cp[r] = seconds(t0);
    }
    Files.delete(copy);
    double cpRate = size / MB / median(cp);
    System.out.printf(Locale.ROOT, "%n1. throughput of a %d MiB file (MB/s = 10^6 bytes/s; median of %d)%n",
        size >> 20, runs);
    System.out.printf(Locale.ROOT, "  %-8s %10s %10s   %s%n", "", "upload", "download", "vs cp");
    System.out.printf(Locale.ROOT, "  %-8s %10.0f %10s%n", "cp", cpRate, "");
    String[][] backends = {
        {"file", "file://" + dir.resolve("file-replica")},
        {"s3", s3.url("bench")},
        {"sftp", sftp.url("/bench")}};
    for (String[] b : backends) {
      double[] up = new double[runs], down = new double[runs];
      try (ReplicaClient c = ReplicaUrl.open(b[1])) {
        TxidRange range = new TxidRange(1, 1000);
        Path got = dir.resolve("download.bin");
        warmUp(c, Math.min(size, 64L << 20));
        for (int r = 0; r < runs; r++) {
          long t0 = System.nanoTime();
          try (InputStream in = new BufferedInputStream(Files.newInputStream(src), 1 << 20)) {
            c.writeFile(0, TestLtx.fakeInfo(range.min(), range.max()), in, size);
          }
          up[r] = seconds(t0);
          Files.deleteIfExists(got);
          t0 = System.nanoTime();
          try (InputStream in = c.openFile(0, range, 0); OutputStream out = Files.newOutputStream(got)) {
            in.transferTo(out);
          }
          down[r] = seconds(t0);
        }
        if (!Arrays.equals(sha256(got), want)) throw new IOException(b[0] + ": downloaded file differs");
        Files.delete(got);
        c.deleteFiles(0, List.of(range));
      }
      double upRate = size / MB / median(up), downRate = size / MB / median(down);
      System.out.printf(Locale.ROOT, "  %-8s %10.0f %10.0f   upload %.2fx, download %.2fx of cp%n", b[0], upRate,
          downRate, upRate / cpRate, downRate / cpRate);
    }
    Files.delete(src);
    System.out.println("  (file uploads fsync the file and its directory; cp does not. All reads hit the page cache.)");
  }

  /** One untimed round trip, so that the timed runs measure compiled code. */
  private static void warmUp(ReplicaClient c, long size) throws IOException {
    TxidRange range = new TxidRange(5000, 5000);
    c.writeFile(0, TestLtx.fakeInfo(range.min(), range.max()), new GeneratedStream(size), size);
    try (InputStream in = c.openFile(0, range, 0)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    c.deleteFiles(0, List.of(range));
  }

  // ---- 2. requests per 1000 small writes ----

  private static void requestCounts(S3ProxyServer s3, SftpTestServer sftp) throws Exception {
    int writes = 1000;
    List<TestLtx> files = new ArrayList<>();
    for (int i = 1; i <= writes; i++) files.add(TestLtx.of(i, i, 2, i));
    long bytes = files.stream().mapToLong(TestLtx::size).sum();
    System.out.printf(Locale.ROOT, "%n2. requests per %d small writes (%.1f KiB LTX files each, level 0)%n", writes,
        bytes / 1024.0 / writes);
    try (FaultProxy proxy = FaultProxy.start(s3.port())) {
      try (ReplicaClient c = ReplicaUrl.open(s3.url("requests", proxy.port()))) {
        count("s3", "HTTP requests", c, files, proxy::requests);
      }
    }
    try (ReplicaClient c = ReplicaUrl.open(sftp.url("/requests"))) {
      count("sftp", "SFTP requests", c, files, sftp::requestsReceived);
    }
  }

  private static void count(String name, String unit, ReplicaClient c, List<TestLtx> files, LongSupplier requests)
      throws Exception {
    long before = requests.getAsLong();
    long t0 = System.nanoTime();
    for (TestLtx f : files) c.writeFile(0, f.info(), f.stream(), f.size());
    double secs = seconds(t0);
    long sent = requests.getAsLong() - before;
    long idleStart = requests.getAsLong();
    Thread.sleep(5000);
    long idle = requests.getAsLong() - idleStart;
    List<LtxFileMeta> listed = c.listFiles(0);
    if (listed.size() != files.size()) throw new IOException(name + ": listed " + listed.size() + " files");
    System.out.printf(Locale.ROOT, "  %-5s %6d %s (%.2f per write; %.0f writes/s); %d while idle for 5 s%n", name,
        sent, unit, sent / (double) files.size(), files.size() / secs, idle);
  }

  // ---- 3. heap during a large upload ----

  private static void heap(Path dir, long big, String xmx, S3ProxyServer s3, SftpTestServer sftp) throws Exception {
    System.out.printf(Locale.ROOT, "%n3. heap of a child JVM (-Xmx%s) uploading generated data: 1 MiB (baseline) "
        + "and %d MiB%n", xmx, big >> 20);
    String[][] backends = {
        {"file", "file://" + dir.resolve("file-big")},
        {"s3", s3.url("big")},
        {"sftp", sftp.url("/big")}};
    for (String[] b : backends) {
      for (long size : new long[] {1L << 20, big}) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx" + xmx, "-cp", System.getProperty("java.class.path"),
            ReplicaBench.class.getName(), "upload-child", b[1], Long.toString(size))
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line;
        try (var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          line = out.readLine();
        }
        int rc = p.waitFor();
        System.out.printf(Locale.ROOT, "  %-5s %5d MiB  %s%n", b[0], size >> 20,
            rc != 0 || line == null ? "FAILED (exit " + rc + ")" : line);
        try (ReplicaClient c = ReplicaUrl.open(b[1])) {
          c.deleteFiles(0, List.of(new TxidRange(1, 2)));
        }
      }
    }
  }

  /**
   * In the child JVM: streams {@code size} generated bytes to the replica and prints the largest live heap seen
   * (heap in use right after a full GC, forced four times a second) and the most heap in use at any moment
   * (sampled every 2 ms, garbage included), against the maximum heap.
   */
  private static void uploadChild(String url, long size) throws Exception {
    var memory = ManagementFactory.getMemoryMXBean();
    var peak = new java.util.concurrent.atomic.AtomicLong();
    var livePeak = new java.util.concurrent.atomic.AtomicLong();
    Thread sampler = Thread.ofPlatform().daemon().start(() -> {
      for (long i = 0; !Thread.currentThread().isInterrupted(); i++) {
        if (i % 125 == 0) {
          System.gc();
          livePeak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        }
        peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    long t0 = System.nanoTime();
    double secs;
    try (ReplicaClient c = ReplicaUrl.open(url)) {
      c.writeFile(0, TestLtx.fakeInfo(1, 2), new GeneratedStream(size), size);
      secs = seconds(t0);
      sampler.interrupt();
      System.gc(); // once more with the client still open: a short upload may end before the first sample
      livePeak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
    }
    long max = Runtime.getRuntime().maxMemory();
    System.out.printf(Locale.ROOT, "ok: live heap at most %.1f MiB, in use at most %.1f MiB, of %.0f MiB max; "
        + "%.0f MB/s%n", livePeak.get() / 1048576.0, peak.get() / 1048576.0, max / 1048576.0, size / MB / secs);
  }

  /** {@code size} pseudo-random bytes made on the fly: nothing buffered. */
  private static final class GeneratedStream extends InputStream {
    private final SplittableRandom random = new SplittableRandom(42);
    private final long size;
    private long pos;

    GeneratedStream(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      byte[] b = new byte[1];
      return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= size) return -1;
      int n = (int) Math.min(len, size - pos);
      for (int i = 0; i < n; i += 8) {
        long v = random.nextLong();
        for (int j = 0; j < 8 && i + j < n; j++) b[off + i + j] = (byte) (v >>> (8 * j));
      }
      pos += n;
      return n;
    }
  }

  // ---- helpers ----

  private static void writeRandomFile(Path p, long size) throws IOException {
    byte[] buf = new byte[1 << 20];
    var gen = new GeneratedStream(size);
    try (OutputStream out = Files.newOutputStream(p)) {
      for (int n; (n = gen.read(buf, 0, buf.length)) > 0; ) out.write(buf, 0, n);
    }
  }

  private static byte[] sha256(Path p) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(p)) {
      for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
    }
    return md.digest();
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
