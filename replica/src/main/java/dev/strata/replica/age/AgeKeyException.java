package dev.strata.replica.age;

import java.io.IOException;

/**
 * An encrypted replica cannot be read with the keys given: none given, or none that opens its files. The message is
 * the one line a user sees.
 */
public final class AgeKeyException extends IOException {
  public AgeKeyException(String message) {
    super(message);
  }
}
