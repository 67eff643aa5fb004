package dev.strata.server;

import dev.strata.ltx.LtxCompactor;
import dev.strata.ltx.LtxDecoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.Pos;
import dev.strata.server.client.ServerClient;
import dev.strata.server.client.ServerException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A primary LiteFS node's backup stream as spec §2.7 describes it: {@code GET /pos}, then per database a snapshot
 * on first contact, batches of up to 256 single-transaction files merged with the LTX compactor, and a refetch of
 * {@code /db/snapshot} whenever the server is ahead, differs, or refuses with a position mismatch.
 */
final class LiteFsLikeClient {
  static final int MAX_FILES = 256;

  /** A local database and the LTX file of each of its transactions since its last snapshot. */
  static final class Local {
    final TestDb db;
    final TreeMap<Long, byte[]> files = new TreeMap<>();
    long hwm;

    Local(int pageSize) {
      db = new TestDb(pageSize);
    }
  }

  final ServerClient server;
  final Map<String, Local> dbs = new TreeMap<>();
  int uploads;
  int snapshotsSent;
  int restores;

  LiteFsLikeClient(ServerClient server) {
    this.server = server;
  }

  /** Commits a transaction locally (as SQLite on LiteFS would). */
  void write(String name, int pageSize, Map<Integer, byte[]> changes, int commit, long timestamp) {
    Local l = dbs.computeIfAbsent(name, n -> new Local(pageSize));
    byte[] file = l.db.commit(changes, commit, timestamp);
    l.files.put(l.db.txid, file);
  }

  /** One pass of the backup stream over every database. */
  void sync() throws IOException {
    Map<String, Pos> posMap = server.positions();
    TreeSet<String> dirty = new TreeSet<>(posMap.keySet());
    dirty.addAll(dbs.keySet());
    for (String name : dirty) syncDb(name, posMap.getOrDefault(name, Pos.ZERO));
  }

  private void syncDb(String name, Pos serverPos) throws IOException {
    Local l = dbs.get(name);
    if (l == null) {
      restore(name);
      return;
    }
    Pos local = l.db.pos();
    if (local.isZero()) return;
    if (serverPos.isZero()) {
      l.hwm = server.writeTx(name, l.db.snapshot(System.currentTimeMillis()));
      snapshotsSent++;
      return;
    }
    if (Long.compareUnsigned(serverPos.txid(), local.txid()) > 0) {
      restore(name);
      return;
    }
    if (serverPos.txid() == local.txid()) {
      if (serverPos.postApplyChecksum() != local.postApplyChecksum()) restore(name);
      return;
    }
    List<InputStream> batch = new ArrayList<>();
    for (long t = serverPos.txid() + 1; t <= local.txid() && batch.size() < MAX_FILES; t++) {
      byte[] f = l.files.get(t);
      if (f == null) {
        restore(name);
        return;
      }
      batch.add(new ByteArrayInputStream(f));
    }
    ByteArrayOutputStream merged = new ByteArrayOutputStream();
    LtxCompactor.lz4().compact(batch, merged);
    try {
      l.hwm = server.writeTx(name, merged.toByteArray());
      uploads++;
    } catch (ServerException e) {
      if (!e.code().equals("EPOSMISMATCH")) throw e;
      restore(name);
    }
  }

  /** Replaces the local database with the server's snapshot; local transactions not on the server are lost. */
  private void restore(String name) throws IOException {
    byte[] snap = server.snapshotBytes(name, null);
    TreeMap<Integer, byte[]> pages = new TreeMap<>();
    LtxFileInfo info;
    try (LtxDecoder d = new LtxDecoder(new ByteArrayInputStream(snap))) {
      byte[] buf = new byte[d.header().pageSize()];
      for (int p; (p = d.readPage(buf)) != 0; ) pages.put(p, buf.clone());
      d.finish();
      info = new LtxFileInfo(d.header(), d.finish(), pages.size());
    }
    Local l = dbs.computeIfAbsent(name, n -> new Local(info.header().pageSize()));
    l.db.replace(pages, info.header().commit(), new Pos(info.header().maxTxid(), info.trailer().postApplyChecksum()));
    l.files.clear();
    l.files.put(info.header().maxTxid(), snap);
    restores++;
  }
}
