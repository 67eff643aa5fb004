package dev.strata.replica.age;

import java.io.IOException;

/**
 * An encrypted file is damaged: its age header does not parse or authenticate, or a payload chunk is truncated or
 * modified. The message is one line naming the file. Reading it again gives the same answer: not worth a retry.
 */
public final class AgeFileException extends IOException {
  public AgeFileException(String message) {
    super(message);
  }
}
