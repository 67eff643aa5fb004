package dev.strata.ltx;

/**
 * The on-disk variants that share the {@code LTX1} magic. Files carry no version field, so the reader must be
 * told which one to expect (spec §1.1, §1.11).
 */
public enum LtxFormat {
  /** superfly/ltx v0.3.x, spoken by LiteFS and written by Strata: raw or whole-block LZ4 pages. */
  V1,
  /** superfly/ltx v0.4.0: one LZ4 frame per page, page index. Read-only. */
  V2,
  /** superfly/ltx v0.5.x (Litestream 0.5): page flags, LZ4 frame or block per page, page index. Read-only. */
  V3
}
