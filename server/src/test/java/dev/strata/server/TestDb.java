package dev.strata.server;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.Pos;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A database as LiteFS would hold it, for tests: pages, TXID and rolling checksum, producing real LTX files
 * (snapshots and single-transaction files) with real checksums.
 */
final class TestDb {
  final int pageSize;
  final TreeMap<Integer, byte[]> pages = new TreeMap<>();
  int commit;
  long txid;
  long checksum; // 0 before the first transaction
  int flags = LtxHeader.FLAG_COMPRESS_LZ4;

  TestDb(int pageSize) {
    this.pageSize = pageSize;
  }

  /** A page filled with one character. */
  static byte[] fill(int size, char c) {
    byte[] b = new byte[size];
    Arrays.fill(b, (byte) c);
    return b;
  }

  byte[] fill(char c) {
    return fill(pageSize, c);
  }

  Pos pos() {
    return new Pos(txid, checksum);
  }

  /** Applies a transaction locally and returns its LTX file (a snapshot when it is the first). */
  byte[] commit(Map<Integer, byte[]> changes, int newCommit, long timestamp) {
    long pre = checksum;
    long min = txid + 1;
    for (Map.Entry<Integer, byte[]> e : changes.entrySet()) pages.put(e.getKey(), e.getValue());
    pages.keySet().removeIf(p -> p > newCommit);
    commit = newCommit;
    txid = min;
    checksum = computeChecksum();
    if (min == 1) return snapshot(timestamp);
    return encode(LtxHeader.of(flags, pageSize, commit, min, min, timestamp, pre), changes, checksum);
  }

  /** Applies changes that keep the page count. */
  byte[] commit(Map<Integer, byte[]> changes, long timestamp) {
    int c = Math.max(commit, changes.keySet().stream().mapToInt(Integer::intValue).max().orElse(0));
    return commit(changes, c, timestamp);
  }

  /** The current state as an LTX snapshot (TXIDs 1..txid). */
  byte[] snapshot(long timestamp) {
    return encode(LtxHeader.of(flags, pageSize, commit, 1, txid, timestamp, 0), pages, checksum);
  }

  /** The database checksum of the current pages. */
  long computeChecksum() {
    long c = Checksum.EMPTY_DATABASE;
    int lock = LtxHeader.lockPgno(pageSize);
    for (Map.Entry<Integer, byte[]> e : pages.entrySet()) {
      if (e.getKey() != lock) c = Checksum.roll(c, 0, Checksum.ofPage(e.getKey(), e.getValue()));
    }
    return c;
  }

  /** Replaces the whole state (as LiteFS does when it applies a snapshot from the server). */
  void replace(TreeMap<Integer, byte[]> newPages, int newCommit, Pos pos) {
    pages.clear();
    pages.putAll(newPages);
    commit = newCommit;
    txid = pos.txid();
    checksum = pos.postApplyChecksum();
  }

  /** The raw SQLite-style bytes of the state. */
  byte[] bytes() {
    byte[] out = new byte[commit * pageSize];
    for (Map.Entry<Integer, byte[]> e : pages.entrySet()) {
      System.arraycopy(e.getValue(), 0, out, (e.getKey() - 1) * pageSize, pageSize);
    }
    return out;
  }

  static byte[] encode(LtxHeader h, Map<Integer, byte[]> pages, long post) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      LtxEncoder enc = new LtxEncoder(out, h);
      for (Map.Entry<Integer, byte[]> e : new TreeMap<>(pages).entrySet()) {
        if (e.getKey() <= h.commit()) enc.encodePage(e.getKey(), e.getValue());
      }
      enc.finish(post);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
