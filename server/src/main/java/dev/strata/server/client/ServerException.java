package dev.strata.server.client;

import dev.strata.ltx.Pos;
import java.io.IOException;

/** An error response from a backup server: status, code and message; the server position for EPOSMISMATCH. */
public final class ServerException extends IOException {
  private final int status;
  private final String code;
  private final Pos pos;

  public ServerException(int status, String code, String message, Pos pos) {
    super(message);
    this.status = status;
    this.code = code;
    this.pos = pos;
  }

  /** HTTP status. */
  public int status() {
    return status;
  }

  /** Error code such as {@code EPOSMISMATCH}; empty when the body was not the JSON error. */
  public String code() {
    return code;
  }

  /** The server's position for a position mismatch, else null. */
  public Pos pos() {
    return pos;
  }
}
