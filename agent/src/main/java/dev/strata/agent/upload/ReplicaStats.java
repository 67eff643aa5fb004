package dev.strata.agent.upload;

/** Counters of one replica of one database, read by metrics. */
public final class ReplicaStats {
  volatile long txid = -1;
  volatile long lastSuccessMillis;
  volatile long files;
  volatile long bytes;
  volatile long errors;
  volatile String lastError;
  volatile long lastErrorMillis;

  /** The last TXID known to be on the replica; -1 while unknown. */
  public long txid() {
    return txid;
  }

  /** When an upload last succeeded (epoch millis); 0 if never in this process. */
  public long lastSuccessMillis() {
    return lastSuccessMillis;
  }

  /** Files uploaded. */
  public long files() {
    return files;
  }

  /** Bytes uploaded. */
  public long bytes() {
    return bytes;
  }

  /** Failed requests. */
  public long errors() {
    return errors;
  }

  /** The message of the last failed request, as logged (one line); null if none failed in this process. */
  public String lastError() {
    return lastError;
  }

  /** When a request last failed (epoch millis); 0 if never in this process. */
  public long lastErrorMillis() {
    return lastErrorMillis;
  }
}
