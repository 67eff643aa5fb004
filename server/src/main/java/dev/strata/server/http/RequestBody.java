package dev.strata.server.http;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body as the endpoints read it. Reading it touches only the client's connection, so a read that fails
 * (a chunk size that is not hex, a body cut short, a reset) is the client's fault: it becomes a {@link Malformed},
 * which the handler answers with 400 {@code EBADREQUEST} however deep in a service it surfaced. That includes
 * unchecked exceptions: Jetty reports a framing error as an {@code HttpException}, a runtime exception.
 */
final class RequestBody extends FilterInputStream {
  /** A request body that could not be read. */
  static final class Malformed extends IOException {
    Malformed(Exception cause) {
      // An I/O exception's words ("early EOF"); none for an unchecked exception's, which may name a Java class.
      super("malformed request body" + (cause instanceof IOException && cause.getMessage() != null
          ? ": " + cause.getMessage() : ""), cause);
    }
  }

  RequestBody(InputStream in) {
    super(in);
  }

  @Override
  public int read() throws IOException {
    try {
      return in.read();
    } catch (IOException | RuntimeException e) {
      throw new Malformed(e);
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    try {
      return in.read(b, off, len);
    } catch (IOException | RuntimeException e) {
      throw new Malformed(e);
    }
  }

  @Override
  public long skip(long n) throws IOException {
    try {
      return in.skip(n);
    } catch (IOException | RuntimeException e) {
      throw new Malformed(e);
    }
  }
}
