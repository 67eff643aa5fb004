package dev.strata.bench.torture;

/** The faults the harness injects, each drawn from the seed. */
enum FaultKind {
  KILL9("kill-9", "SIGKILL of strata replicate at a random moment; restarted after a random pause"),
  KILL9_CHECKPOINT("kill-9+checkpoint",
      "SIGKILL, then while strata is down the writer commits and runs wal_checkpoint(PASSIVE|FULL|RESTART|TRUNCATE)"),
  CHECKPOINT_LIVE("checkpoint-live", "the writer runs wal_checkpoint(PASSIVE|FULL|RESTART|TRUNCATE) while strata runs"),
  DB_REPLACED_LIVE("db-replaced-live",
      "the database file is renamed over (and -wal/-shm removed) while strata runs, possibly at another page size"),
  DB_REPLACED_OFFLINE("db-replaced-offline", "the database file is replaced while strata is stopped"),
  META_DISK_FULL("meta-disk-full", "the meta directory's file system is full (or unwritable) for a while"),
  STORAGE_ERRORS("storage-5xx", "the replica storage answers 500/503 to a fraction of requests"),
  STORAGE_RESETS("storage-reset", "the replica storage resets a fraction of connections"),
  STORAGE_STALL("storage-stall", "the replica storage stalls a fraction of requests"),
  SFTP_DROP("sftp-drop", "the SFTP server drops every open session, repeatedly"),
  FILE_READONLY("file-readonly", "the file replica's directory turns read-only for a while"),
  IDLE("idle", "no commits for a while: no replica requests expected (invariant 4)");

  private final String label;
  private final String description;

  FaultKind(String label, String description) {
    this.label = label;
    this.description = description;
  }

  /** Short name used in output and in --faults. */
  String label() {
    return label;
  }

  /** One sentence for the report. */
  String description() {
    return description;
  }

  /** Parses a label. */
  static FaultKind ofLabel(String label) {
    for (FaultKind k : values()) if (k.label.equals(label)) return k;
    throw new IllegalArgumentException("unknown fault \"" + label + "\"");
  }

  /** True when strata's storage is what fails, so only the target it hits may lag. */
  boolean isStorageFault() {
    return this == STORAGE_ERRORS || this == STORAGE_RESETS || this == STORAGE_STALL || this == SFTP_DROP
        || this == FILE_READONLY;
  }
}
