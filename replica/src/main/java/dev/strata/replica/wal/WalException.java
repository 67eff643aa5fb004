package dev.strata.replica.wal;

import java.io.IOException;

/** A WAL file that cannot be read as SQLite wrote it: bad magic, version, page size or header checksum. */
public final class WalException extends IOException {
  public WalException(String message) {
    super(message);
  }
}
