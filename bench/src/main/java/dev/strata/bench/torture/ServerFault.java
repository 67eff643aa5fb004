package dev.strata.bench.torture;

/** The faults of the server profile ({@code bin/torture --server}), each drawn from the seed. */
enum ServerFault {
  KILL9_UPLOAD("kill-9-upload", "SIGKILL of strata serve while a LiteFS upload is in flight; restarted after a pause"),
  KILL9_COMPACTION("kill-9-compaction",
      "SIGKILL of strata serve while it compacts: a level-1 (or, near its boundary, level-2) upload held by the "
          + "storage, or just after a 10-s boundary"),
  SIGTERM("sigterm", "strata serve stopped with SIGTERM while nodes upload, then restarted"),
  STORAGE_ERRORS("storage-5xx", "the S3 storage answers 500/503 to a fraction of requests"),
  STORAGE_RESETS("storage-reset", "the S3 storage resets a fraction of connections"),
  STORAGE_STALL("storage-stall", "the S3 storage stalls a fraction of requests"),
  STALE_POSITION("stale-position",
      "a node sends an upload from a wrong position (replayed, snapshot over, gap, wrong pre-apply checksum, behind): "
          + "409 EPOSMISMATCH and nothing changes"),
  RESTORE_LIVE("restore-live",
      "the database is restored on the server (HTTP or strata cluster restore, by TXID or time) while its node writes"),
  KILL9_POSTGRES("kill-9-postgres",
      "SIGKILL of PostgreSQL (the shared metadata store) under load, restarted after a pause: uploads meanwhile must "
          + "be answered 503 and retried (--metadata postgres only)");

  private final String label;
  private final String description;

  ServerFault(String label, String description) {
    this.label = label;
    this.description = description;
  }

  String label() {
    return label;
  }

  String description() {
    return description;
  }

  static ServerFault ofLabel(String label) {
    for (ServerFault k : values()) if (k.label.equals(label)) return k;
    throw new IllegalArgumentException("unknown server fault \"" + label + "\"");
  }

  /** Whether the fault needs the PostgreSQL metadata store. */
  boolean needsPostgres() {
    return this == KILL9_POSTGRES;
  }

  /** The S3 fault of the shared storage targets that this is, or null. */
  FaultKind storageFault() {
    return switch (this) {
      case STORAGE_ERRORS -> FaultKind.STORAGE_ERRORS;
      case STORAGE_RESETS -> FaultKind.STORAGE_RESETS;
      case STORAGE_STALL -> FaultKind.STORAGE_STALL;
      default -> null;
    };
  }
}
