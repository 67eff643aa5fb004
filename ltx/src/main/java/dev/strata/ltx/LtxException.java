package dev.strata.ltx;

import java.io.IOException;

/** An LTX file is malformed or fails a checksum; the message says what is wrong, in one line. */
public class LtxException extends IOException {
  public LtxException(String message) {
    super(message);
  }

  public LtxException(String message, Throwable cause) {
    super(message, cause);
  }
}
