package dev.strata.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** Turns an exception into the one line a user sees. */
final class CliErrors {
  private CliErrors() {}

  static String oneLine(Throwable e) {
    String msg = switch (e) {
      case NoSuchFileException n -> "no such file: " + n.getFile();
      case AccessDeniedException a -> "permission denied: " + a.getFile();
      case FileAlreadyExistsException f -> "file already exists: " + f.getFile();
      default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    };
    return msg.replace('\n', ' ');
  }
}
