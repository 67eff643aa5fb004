package dev.strata.server.http;

import dev.strata.ltx.CountingInputStream;
import dev.strata.server.ErrorCode;
import dev.strata.server.Names;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's line in the access log, written at INFO on its own logger ({@value #LOGGER}) so that operators
 * can route or silence it by name:
 *
 * <pre>POST /db/tx cluster=prod db=app.db status=409 in=1234 out=125 ms=3 code=EPOSMISMATCH</pre>
 *
 * {@code cluster} and {@code db} are {@code -} when unknown (a failed Authorization, no {@code db} parameter);
 * {@code in} and {@code out} count body bytes read and written. {@code code} follows an error response, or an
 * error that cut off a response already under way (its status is then the 200 that was sent); {@code status=-}
 * means the connection ended before any response, {@code stalled=true} that the client stopped sending or
 * reading for the stall timeout. Headers (Authorization, tokens) and query strings are never written.
 */
final class AccessLine {
  static final String LOGGER = "dev.strata.server.access";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  private final String method;
  private final String path;
  private final long start = System.nanoTime();
  private CountingInputStream bytesIn; // null until the body is read
  private long bytesOut;
  private ErrorCode code;
  private boolean stalled;

  /** Starts the clock; {@code path} as sent (still percent-encoded). */
  AccessLine(String method, String path) {
    this.method = method;
    this.path = path;
  }

  /** The request body, counting its bytes. */
  InputStream countIn(InputStream in) {
    bytesIn = new CountingInputStream(in);
    return bytesIn;
  }

  /** The response body, counting its bytes. */
  OutputStream countOut(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(int b) throws IOException {
        out.write(b);
        bytesOut++;
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        bytesOut += len;
      }
    };
  }

  /** The request failed with {@code code} (answered with it, or cut off by it). */
  void failed(ErrorCode code) {
    this.code = code;
  }

  /** The client stalled and the connection was closed. */
  void stalled() {
    stalled = true;
  }

  /** Writes the line; {@code status} −1 when none was sent; {@code cluster}, {@code db} null or empty if unknown. */
  void write(int status, String cluster, String db) {
    if (!log.isInfoEnabled()) return;
    StringBuilder b = new StringBuilder(128)
        .append(word(method)).append(' ')
        .append(word(path))
        .append(" cluster=").append(word(cluster))
        .append(" db=").append(word(db))
        .append(" status=").append(status < 0 ? "-" : Integer.toString(status))
        .append(" in=").append(bytesIn == null ? 0 : bytesIn.count())
        .append(" out=").append(bytesOut)
        .append(" ms=").append((System.nanoTime() - start) / 1_000_000);
    if (code != null) b.append(" code=").append(code.name());
    if (stalled) b.append(" stalled=true");
    log.info(b.toString());
  }

  /** A value as one space-free token: {@code -} when empty, Go-quoted when it holds anything unusual. */
  private static String word(String s) {
    if (s == null || s.isEmpty()) return "-";
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\') return Names.goQuote(s);
    }
    return s;
  }
}
