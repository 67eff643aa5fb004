package dev.strata.bench;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.server.Server;
import dev.strata.server.ServerConfig;
import dev.strata.server.client.ServerClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ingest of small LTX uploads ({@code POST /db/tx}, one changed 4 KiB page each) from many concurrent clusters on
 * loopback, against the fsync rate of the same disk measured in the same run: a server that must make every
 * upload durable before answering cannot beat that rate without group commit.
 *
 * <p>Usage: {@code ServerBench [clusters=100] [seconds=20] [dir=./target/server-bench]}.
 */
public final class ServerBench {
  private static final int PAGE = 4096;

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].startsWith("--")) {
      LitefsLoadBench.main(args);
      return;
    }
    int clusters = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path dir = Path.of(args.length > 2 ? args[2] : "target/server-bench").toAbsolutePath();
    Files.createDirectories(dir);
    Path data = Files.createTempDirectory(dir, "data-");

    System.out.printf("disk: %s (load average %.1f on %d cpus)%n", data,
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        Runtime.getRuntime().availableProcessors());
    int probe = Math.max(2, seconds / 8);
    double fdatasyncBefore = fsyncRate(data, probe, false), fsyncBefore = fsyncRate(data, probe, true);

    ServerConfig cfg = ServerConfig.defaults(data.resolve("server")).withBind(new InetSocketAddress("127.0.0.1", 0));
    try (Server server = Server.start(cfg)) {
      long commitsBefore = server.store().commits();
      Result r = ingest(server.localUrl(), clusters, seconds);
      long commits = server.store().commits() - commitsBefore;
      // The disk is measured before and after the ingest: on shared machines its rate drifts.
      double fdatasyncs = (fdatasyncBefore + fsyncRate(data, probe, false)) / 2;
      double fsyncs = (fsyncBefore + fsyncRate(data, probe, true)) / 2;
      System.out.printf("baseline, one thread rewriting 4 KiB (mean of before and after): %.0f write+fdatasync/s,"
          + " %.0f write+fsync/s%n", fdatasyncs, fsyncs);
      System.out.printf("ingest: %d clusters, %d s: %d uploads, %.0f uploads/s, %.1f MiB/s of LTX%n", clusters,
          seconds, r.count, r.count / r.seconds, r.bytes / r.seconds / (1024 * 1024));
      System.out.printf("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n", r.pct(50), r.pct(99),
          r.pct(99.9), r.pct(100));
      System.out.printf("ratio: uploads/s ÷ fsyncs/s = %.2f, ÷ fdatasyncs/s = %.2f (above 1: uploads share commits)%n",
          r.count / r.seconds / fsyncs, r.count / r.seconds / fdatasyncs);
      java.io.ByteArrayOutputStream m = new java.io.ByteArrayOutputStream();
      server.metrics().write(m);
      double sum = 0, count = 0;
      for (String line : m.toString().split("\n")) {
        if (line.startsWith("strata_server_upload_seconds_sum")) sum = Double.parseDouble(line.split(" ")[1]);
        if (line.startsWith("strata_server_upload_seconds_count")) count = Double.parseDouble(line.split(" ")[1]);
      }
      System.out.printf("server side: mean %.2f ms from a received body to its durable commit;"
          + " %.1f uploads per metadata commit (%d commits, %.0f/s)%n", count == 0 ? 0 : sum / count * 1000,
          (double) r.count / Math.max(1, commits), commits, commits / r.seconds);
    }
  }

  /** Writes 4 KiB and syncs it ({@code metadata}: fsync, else fdatasync) for {@code seconds}; returns syncs/s. */
  static double fsyncRate(Path dir, int seconds, boolean metadata) throws IOException {
    Path f = dir.resolve("fsync-probe");
    ByteBuffer buf = ByteBuffer.allocate(PAGE);
    long n = 0, start = System.nanoTime(), end = start + seconds * 1_000_000_000L;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      while (System.nanoTime() < end) {
        buf.clear();
        ch.write(buf, (n % 16) * PAGE);
        ch.force(metadata);
        n++;
      }
    }
    Files.delete(f);
    return n / ((System.nanoTime() - start) / 1e9);
  }

  record Result(long count, long bytes, double seconds, long[] latenciesNanos) {
    double pct(double p) {
      if (latenciesNanos.length == 0) return 0;
      int i = (int) Math.min(latenciesNanos.length - 1, Math.ceil(p / 100 * latenciesNanos.length) - 1);
      return latenciesNanos[Math.max(0, i)] / 1e6;
    }
  }

  /** One database per cluster; each cluster uploads a snapshot, then one-page transactions back to back. */
  static Result ingest(String url, int clusters, int seconds) throws Exception {
    AtomicLong bytes = new AtomicLong();
    List<long[]> lat = new ArrayList<>();
    long[] counts = new long[clusters];
    CountDownLatch ready = new CountDownLatch(clusters);
    CountDownLatch go = new CountDownLatch(1);
    long[] window = new long[2];
    List<Thread> threads = new ArrayList<>();
    // One HTTP client for all clusters, so the benchmark's own client threads take less of the CPU.
    java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    for (int c = 0; c < clusters; c++) {
      int id = c;
      long[] mine = new long[1 << 20];
      lat.add(mine);
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          ServerClient client = new ServerClient(url, "cluster bench" + id, http);
          Random rnd = new Random(id);
          byte[] page = new byte[PAGE];
          rnd.nextBytes(page);
          long sum = Checksum.roll(Checksum.EMPTY_DATABASE, 0, Checksum.ofPage(1, page));
          client.writeTx("db", ltx(1, 0, page, sum));
          ready.countDown();
          go.await();
          long txid = 1;
          int n = 0;
          while (System.nanoTime() < window[1] && n < mine.length) {
            byte[] next = new byte[PAGE];
            rnd.nextBytes(next);
            long after = Checksum.roll(sum, Checksum.ofPage(1, page), Checksum.ofPage(1, next));
            byte[] file = ltx(txid + 1, sum, next, after);
            long t0 = System.nanoTime();
            client.writeTx("db", file);
            mine[n++] = System.nanoTime() - t0;
            bytes.addAndGet(file.length);
            txid++;
            sum = after;
            page = next;
          }
          counts[id] = n;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      }));
    }
    ready.await();
    window[0] = System.nanoTime();
    window[1] = window[0] + seconds * 1_000_000_000L;
    go.countDown();
    for (Thread t : threads) t.join();
    double elapsed = (System.nanoTime() - window[0]) / 1e9;
    long total = Arrays.stream(counts).sum();
    long[] all = new long[(int) total];
    int k = 0;
    for (int c = 0; c < clusters; c++) {
      System.arraycopy(lat.get(c), 0, all, k, (int) counts[c]);
      k += (int) counts[c];
    }
    Arrays.sort(all);
    return new Result(total, bytes.get(), elapsed, all);
  }

  /** A one-page LTX file (a snapshot when {@code min} is 1), LZ4-compressed as LiteFS sends them. */
  static byte[] ltx(long min, long pre, byte[] page, long post) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(out, LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, PAGE, 1, min, min,
        System.currentTimeMillis(), pre));
    enc.encodePage(1, page);
    enc.finish(post);
    return out.toByteArray();
  }
}
