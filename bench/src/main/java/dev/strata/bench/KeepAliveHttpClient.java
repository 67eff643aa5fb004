package dev.strata.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The load benchmark's HTTP/1.1 client: blocking requests over kept-alive loopback connections, one request at a
 * time on each, made on the caller's (virtual) thread. The JDK's {@code HttpClient} spent about 0.6 CPU-ms per
 * upload, as much as the server it measured, on the same two cores: the client of a real deployment (LiteFS) runs
 * on other machines, so the benchmark's should take as little of this one as it can.
 */
final class KeepAliveHttpClient implements AutoCloseable {
  /** An answer: its status, its body as text, and the {@code Litefs-Hwm} header (null when absent). */
  record Answer(int status, String body, String hwm) {}

  private final int timeoutMillis;
  private final Map<Integer, ConcurrentLinkedDeque<Connection>> idle = new ConcurrentHashMap<>();

  KeepAliveHttpClient(int timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * {@code POST path} to {@code 127.0.0.1:port}. A kept-alive connection the server closed meanwhile fails on
   * its first use; the request then goes once more on a new connection (the upload's caller recognises a repeated
   * upload by the position in its 409).
   */
  Answer post(int port, String path, String authorization, byte[] body) throws IOException {
    ConcurrentLinkedDeque<Connection> pool = idle.computeIfAbsent(port, p -> new ConcurrentLinkedDeque<>());
    Connection kept = pool.pollFirst();
    if (kept != null) {
      try {
        return kept.post(path, authorization, body, pool);
      } catch (IOException e) {
        kept.close();
      }
    }
    Connection fresh = new Connection(port, timeoutMillis);
    try {
      return fresh.post(path, authorization, body, pool);
    } catch (IOException e) {
      fresh.close();
      throw e;
    }
  }

  @Override
  public void close() {
    for (ConcurrentLinkedDeque<Connection> pool : idle.values()) {
      for (Connection c; (c = pool.pollFirst()) != null; ) c.close();
    }
  }

  private static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String host;

    Connection(int port, int timeoutMillis) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
      host = "127.0.0.1:" + port;
    }

    /** Sends the request, reads the answer and gives the connection back to {@code pool} unless it is closing. */
    Answer post(String path, String authorization, byte[] body, ConcurrentLinkedDeque<Connection> pool)
        throws IOException {
      byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + authorization
          + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
      byte[] request = new byte[head.length + body.length];
      System.arraycopy(head, 0, request, 0, head.length);
      System.arraycopy(body, 0, request, head.length, body.length);
      out.write(request); // one write, one segment
      out.flush();

      String status = line();
      if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) throw new IOException("bad status: " + status);
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      boolean chunked = false, closing = false;
      String hwm = null;
      for (String h; !(h = line()).isEmpty(); ) {
        int colon = h.indexOf(':');
        if (colon < 0) continue;
        String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).strip();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
          case "connection" -> closing = value.equalsIgnoreCase("close");
          case "litefs-hwm" -> hwm = value;
          default -> { }
        }
      }
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      if (chunked) {
        for (int n; (n = Integer.parseInt(line().split(";")[0].strip(), 16)) > 0; ) {
          answer.write(in.readNBytes(n));
          line();
        }
        while (!line().isEmpty()) { } // trailers
      } else if (length >= 0) {
        byte[] b = in.readNBytes((int) length);
        if (b.length < length) throw new EOFException("answer cut short");
        answer.write(b);
      } else {
        answer.write(in.readAllBytes());
        closing = true;
      }
      if (closing) close();
      else pool.offerFirst(this);
      return new Answer(code, answer.toString(StandardCharsets.UTF_8), hwm);
    }

    private String line() throws IOException {
      StringBuilder s = new StringBuilder();
      for (int b; (b = in.read()) != '\n'; ) {
        if (b < 0) throw new EOFException("connection closed");
        if (b != '\r') s.append((char) b);
      }
      return s.toString();
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
