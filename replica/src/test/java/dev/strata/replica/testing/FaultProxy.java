package dev.strata.replica.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * An HTTP/1.1 proxy on a loopback port in front of an HTTP server (S3Proxy), that passes requests through or, as
 * its {@link Schedule} decides for each request, answers 500, 503 or 429 itself, resets the connection (before the
 * request is forwarded, or half-way through the response body), or stalls (never answers). It counts every request
 * it receives, by method, and keeps a log of {@code METHOD target -> fault} lines.
 *
 * <p>Use: {@code try (var proxy = FaultProxy.start(s3.port())) { proxy.schedule(FaultProxy.firstN(2,
 * Fault.ERROR_503)); ReplicaUrl.open(s3.url("db", proxy.port())) … }}. Keep-alive connections are kept (requests
 * are parsed, bodies delimited by Content-Length or chunked encoding), so request counts match what a client sends.
 */
public final class FaultProxy implements AutoCloseable {
  /** What to do with one request. */
  public enum Fault {
    /** Forward it. */
    NONE,
    /** Answer 500 InternalError. */
    ERROR_500,
    /** Answer 503 SlowDown. */
    ERROR_503,
    /** Answer 429 TooManyRequests. */
    ERROR_429,
    /** Reset the client connection (TCP RST) without forwarding. */
    RESET,
    /** Forward it, pass the response head and half the body, then reset the client connection. */
    RESET_MID_RESPONSE,
    /** Read the request and never answer; the connection stays open until the client gives up. */
    STALL
  }

  /** Decides the fault for the {@code n}-th request (from 1) received. */
  @FunctionalInterface
  public interface Schedule {
    Fault next(String method, String target, long n);
  }

  private final ServerSocket listener;
  private final int upstreamPort;
  private final Thread acceptor;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicLong requests = new AtomicLong();
  private final Map<String, LongAdder> byMethod = new ConcurrentHashMap<>();
  private final AtomicInteger faults = new AtomicInteger();
  private final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
  private volatile Schedule schedule = passAll();
  private volatile boolean closed;
  /** An upstream connection idle for longer is replaced before it carries a request. */
  private static final long UPSTREAM_IDLE_NANOS = 1_000_000_000L;

  private FaultProxy(int upstreamPort) throws IOException {
    this.upstreamPort = upstreamPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = Thread.ofPlatform().daemon().name("fault-proxy-accept").start(this::acceptLoop);
  }

  /** Starts a proxy to {@code 127.0.0.1:upstreamPort}, passing everything until told otherwise. */
  public static FaultProxy start(int upstreamPort) throws IOException {
    return new FaultProxy(upstreamPort);
  }

  /** The loopback port to send requests to. */
  public int port() {
    return listener.getLocalPort();
  }

  /** Replaces the schedule; request numbering goes on. */
  public void schedule(Schedule s) {
    this.schedule = s;
  }

  /** Requests received (faulted ones included). */
  public long requests() {
    return requests.get();
  }

  /** Requests received with this method (GET, PUT, POST, DELETE, HEAD). */
  public long requests(String method) {
    LongAdder a = byMethod.get(method);
    return a == null ? 0 : a.sum();
  }

  /** Faults injected so far. */
  public int faults() {
    return faults.get();
  }

  /** Every request so far as {@code METHOD target -> FAULT}. */
  public List<String> log() {
    synchronized (log) {
      return List.copyOf(log);
    }
  }

  /** Zeroes the counters and the log. */
  public void resetCounts() {
    requests.set(0);
    byMethod.clear();
    faults.set(0);
    log.clear();
  }

  /** Passes every request. */
  public static Schedule passAll() {
    return (m, t, n) -> Fault.NONE;
  }

  /** Applies {@code fault} to every request. */
  public static Schedule always(Fault fault) {
    return (m, t, n) -> fault;
  }

  /** Applies {@code fault} to the next {@code count} requests (counted from when the schedule is set), then passes. */
  public static Schedule firstN(int count, Fault fault) {
    AtomicInteger left = new AtomicInteger(count);
    return (m, t, n) -> left.getAndDecrement() > 0 ? fault : Fault.NONE;
  }

  /** Like {@link #firstN} but only for requests with {@code method} (others pass). */
  public static Schedule firstN(String method, int count, Fault fault) {
    AtomicInteger left = new AtomicInteger(count);
    return (m, t, n) -> m.equals(method) && left.getAndDecrement() > 0 ? fault : Fault.NONE;
  }

  /** Applies {@code fault} to each request with probability {@code p}, from a seeded random sequence. */
  public static Schedule fraction(double p, Fault fault, long seed) {
    Random random = new Random(seed);
    return (m, t, n) -> {
      synchronized (random) {
        return random.nextDouble() < p ? fault : Fault.NONE;
      }
    };
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        // Heads and bodies go out as separate writes: without this, Nagle and delayed ACKs add 40 ms a request.
        client.setTcpNoDelay(true);
        sockets.add(client);
        Thread.ofVirtual().name("fault-proxy-conn").start(() -> serve(client));
      } catch (IOException e) {
        if (closed) return;
      }
    }
  }

  /** One client connection: requests in sequence over one upstream connection (opened on demand). */
  private void serve(Socket client) {
    Socket upstream = null;
    long upstreamUsed = 0;
    try (client) {
      InputStream cin = new BufferedInputStream(client.getInputStream());
      OutputStream cout = client.getOutputStream();
      InputStream uin = null;
      OutputStream uout = null;
      while (true) {
        Head req = Head.read(cin);
        if (req == null) return;
        String[] line = req.first.split(" ");
        String method = line[0];
        String target = line.length > 1 ? line[1] : "";
        long n = requests.incrementAndGet();
        byMethod.computeIfAbsent(method, k -> new LongAdder()).increment();
        Fault fault = schedule.next(method, target, n);
        log.add(method + " " + target + " -> " + fault);
        if (fault != Fault.NONE) faults.incrementAndGet();
        boolean expectContinue = "100-continue".equalsIgnoreCase(req.header("expect"));
        switch (fault) {
          case RESET -> {
            reset(client);
            return;
          }
          case STALL -> {
            // Swallow whatever comes until the client closes the connection.
            while (cin.read(new byte[8192]) >= 0) {
              // discard
            }
            return;
          }
          case ERROR_500, ERROR_503, ERROR_429 -> {
            // With Expect: 100-continue the body was never sent: answer and close, as servers do.
            if (!expectContinue) skipBody(cin, req);
            writeError(cout, fault, method.equals("HEAD"), expectContinue);
            if (expectContinue) return;
          }
          case NONE, RESET_MID_RESPONSE -> {
            if (upstream != null && System.nanoTime() - upstreamUsed > UPSTREAM_IDLE_NANOS) {
              // S3Proxy may have closed it meanwhile (its idle timeout), and a request sent on it would end with no
              // response: the client would see a failure that no real S3 endpoint gives. A proxy reconnects.
              sockets.remove(upstream);
              upstream.close();
              upstream = null;
            }
            if (upstream == null) {
              upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
              upstream.setTcpNoDelay(true);
              sockets.add(upstream);
              uin = new BufferedInputStream(upstream.getInputStream());
              uout = upstream.getOutputStream();
            }
            uout.write(req.bytes);
            uout.flush();
            Head resp;
            if (expectContinue) {
              resp = Head.read(uin);
              if (resp == null) return;
              cout.write(resp.bytes);
              cout.flush();
              if (resp.status() != 100) {
                // Refused before the body: the body will not come; this connection is done.
                copyBody(uin, cout, resp, method, Long.MAX_VALUE);
                return;
              }
            }
            copyBody(cin, uout, req, null, Long.MAX_VALUE);
            uout.flush();
            do {
              resp = Head.read(uin);
              if (resp == null) return;
              if (resp.status() == 100 && expectContinue) continue; // already passed on
              break;
            } while (true);
            cout.write(resp.bytes);
            if (fault == Fault.RESET_MID_RESPONSE) {
              long len = resp.contentLength();
              copyBody(uin, cout, resp, method, len > 0 ? len / 2 : 0);
              cout.flush();
              reset(client);
              return;
            }
            boolean untilClose = copyBody(uin, cout, resp, method, Long.MAX_VALUE);
            cout.flush();
            upstreamUsed = System.nanoTime();
            if (untilClose || "close".equalsIgnoreCase(resp.header("connection"))
                || "close".equalsIgnoreCase(req.header("connection"))) {
              return;
            }
          }
        }
      }
    } catch (IOException e) {
      // a side hung up; the other side sees the connection close
    } finally {
      sockets.remove(client);
      if (upstream != null) {
        sockets.remove(upstream);
        try {
          upstream.close();
        } catch (IOException ignored) {
          // closing
        }
      }
    }
  }

  private static void reset(Socket s) throws IOException {
    s.setSoLinger(true, 0);
    s.close();
  }

  private void writeError(OutputStream out, Fault fault, boolean head, boolean close) throws IOException {
    int status = switch (fault) {
      case ERROR_503 -> 503;
      case ERROR_429 -> 429;
      default -> 500;
    };
    String code = switch (status) {
      case 503 -> "SlowDown";
      case 429 -> "TooManyRequests";
      default -> "InternalError";
    };
    byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code
        + "</Code><Message>injected by FaultProxy</Message><RequestId>fault</RequestId></Error>")
        .getBytes(StandardCharsets.UTF_8);
    String reason = switch (status) {
      case 503 -> "Service Unavailable";
      case 429 -> "Too Many Requests";
      default -> "Internal Server Error";
    };
    String headers = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/xml\r\nContent-Length: "
        + (head ? 0 : body.length) + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
    out.write(headers.getBytes(StandardCharsets.ISO_8859_1));
    if (!head) out.write(body);
    out.flush();
  }

  private static void skipBody(InputStream in, Head h) throws IOException {
    copyBody(in, OutputStream.nullOutputStream(), h, null, Long.MAX_VALUE);
  }

  /**
   * Copies the body that follows head {@code h} (of a request when {@code requestMethod} is null, else of the
   * response to it), at most {@code limit} bytes. Returns true when the body runs until the connection closes.
   */
  private static boolean copyBody(InputStream in, OutputStream out, Head h, String requestMethod, long limit)
      throws IOException {
    if (requestMethod != null) {
      int s = h.status();
      if (requestMethod.equals("HEAD") || s / 100 == 1 || s == 204 || s == 304) return false;
    }
    if ("chunked".equalsIgnoreCase(h.header("transfer-encoding"))) {
      copyChunked(in, out);
      return false;
    }
    long len = h.contentLength();
    if (len < 0) {
      if (requestMethod == null) return false; // a request without a length has no body
      in.transferTo(out);
      return true;
    }
    copyN(in, out, Math.min(len, limit));
    return false;
  }

  private static void copyChunked(InputStream in, OutputStream out) throws IOException {
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) throw new IOException("eof in chunked body");
      out.write((sizeLine + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      int semi = sizeLine.indexOf(';');
      long size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip(), 16);
      if (size == 0) {
        // trailers, then an empty line
        String t;
        do {
          t = readLine(in);
          if (t == null) throw new IOException("eof in chunked trailer");
          out.write((t + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        } while (!t.isEmpty());
        return;
      }
      copyN(in, out, size);
      String crlf = readLine(in);
      if (crlf == null) throw new IOException("eof after chunk");
      out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
  }

  private static void copyN(InputStream in, OutputStream out, long n) throws IOException {
    byte[] buf = new byte[64 * 1024];
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) throw new IOException("eof in body");
      out.write(buf, 0, r);
      n -= r;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        byte[] b = line.toByteArray();
        int len = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
        return new String(b, 0, len, StandardCharsets.ISO_8859_1);
      }
      line.write(c);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  /** A request or response head: its first line, headers, and the exact bytes to forward. */
  private record Head(String first, Map<String, String> headers, byte[] bytes) {
    static Head read(InputStream in) throws IOException {
      String first = readLine(in);
      if (first == null) return null;
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      raw.write((first + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      Map<String, String> headers = new java.util.HashMap<>();
      String line;
      while ((line = readLine(in)) != null && !line.isEmpty()) {
        raw.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        int colon = line.indexOf(':');
        if (colon > 0) headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
      }
      if (line == null) throw new IOException("eof in head");
      raw.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      return new Head(first, headers, raw.toByteArray());
    }

    String header(String name) {
      return headers.get(name);
    }

    long contentLength() {
      String v = headers.get("content-length");
      return v == null ? -1 : Long.parseLong(v);
    }

    /** The status of a response head. */
    int status() {
      String[] parts = first.split(" ");
      return parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    acceptor.interrupt();
  }
}
