package dev.strata.server;

import dev.strata.ltx.Pos;

/**
 * An error the API reports to its caller as {@code {"code":…,"error":…}} with the code's status. {@code pos} is
 * the server's position, sent only with {@link ErrorCode#EPOSMISMATCH}.
 */
public final class ApiException extends RuntimeException {
  private final ErrorCode code;
  private final Pos pos;

  public ApiException(ErrorCode code, String message) {
    this(code, message, null);
  }

  public ApiException(ErrorCode code, String message, Pos pos) {
    super(message, null, false, false);
    this.code = code;
    this.pos = pos;
  }

  /** The position mismatch error carrying the server's position. */
  public static ApiException posMismatch(Pos serverPos) {
    return new ApiException(ErrorCode.EPOSMISMATCH, "position mismatch", serverPos);
  }

  /** {@code ENODB database not found}. */
  public static ApiException noDatabase() {
    return new ApiException(ErrorCode.ENODB, "database not found");
  }

  /** {@code ENOTXID tx not available}, optionally with why. */
  public static ApiException noTxid(String detail) {
    return new ApiException(ErrorCode.ENOTXID, detail == null ? "tx not available" : "tx not available: " + detail);
  }

  /** The code. */
  public ErrorCode code() {
    return code;
  }

  /** The server position for a position mismatch, else null. */
  public Pos pos() {
    return pos;
  }
}
