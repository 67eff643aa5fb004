package dev.strata.server.compaction;

/** What one compaction run did. */
public enum Outcome {
  /** Wrote a file. */
  DONE,
  /** Nothing new to compact. */
  NOTHING,
  /** Wrote a file but more sources remain, or the work had to wait; run again. */
  PARTIAL
}
