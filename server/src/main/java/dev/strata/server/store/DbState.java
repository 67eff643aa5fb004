package dev.strata.server.store;

import dev.strata.ltx.Pos;

/** A database and its newest transaction ({@code last} is null before the first one). */
public record DbState(DbRow db, TxnRow last) {
  /** The replication position; zero before the first transaction. */
  public Pos pos() {
    return last == null ? Pos.ZERO : last.pos();
  }
}
