package dev.strata.server.http;

import dev.strata.ltx.Checksum;
import dev.strata.ltx.Pos;
import dev.strata.ltx.Timestamps;
import dev.strata.ltx.Txid;
import dev.strata.server.ApiException;
import dev.strata.server.BackupService;
import dev.strata.server.ErrorCode;
import dev.strata.server.GoJson;
import dev.strata.server.Names;
import dev.strata.server.store.AppendTx;
import dev.strata.server.store.SqliteFileSink;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The API's endpoints (spec §2.3, §3): parameters in, JSON out; the work is {@link BackupService}'s. */
final class Endpoints {
  private final BackupService service;
  private final ClusterIds clusterIds;

  Endpoints(BackupService service, ClusterIds clusterIds) {
    this.service = service;
    this.clusterIds = clusterIds;
  }

  /** {@code GET /pos}. */
  void pos(Call call) throws IOException {
    Map<String, Object> out = new TreeMap<>();
    for (Map.Entry<String, Pos> e : service.positions(call.cluster()).entrySet()) {
      out.put(e.getKey(), BackupService.posJson(e.getValue()));
    }
    call.json(out);
  }

  /** {@code POST /db/tx}: 200, no body, {@code Litefs-Hwm}. */
  void tx(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    AppendTx.Result r = service.writeTx(call.cluster(), db, call.body());
    call.header("Litefs-Hwm", Txid.format(r.hwm()));
    call.empty(200);
  }

  /** {@code GET /db/snapshot[?format=ltx|sqlite]}. */
  void snapshot(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    String format = call.param("format");
    boolean sqlite = switch (format) {
      case "", "ltx" -> false;
      case "sqlite" -> true;
      default -> throw new ApiException(ErrorCode.EBADFORMAT, "unsupported snapshot format");
    };
    OutputStream[] out = new OutputStream[1];
    service.snapshot(call.cluster(), db, sqlite, txn -> {
      out[0] = sqlite ? call.stream("application/octet-stream", SqliteFileSink.size(txn))
          : call.stream("application/octet-stream", -1);
      return out[0];
    });
    if (out[0] != null) out[0].close();
  }

  /** {@code GET /db/info[?all]}, with the cluster's LiteFS cluster ID when it has one. */
  void info(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    List<Map<String, String>> paths = new ArrayList<>();
    for (BackupService.RestorePoint p : service.info(call.cluster(), db, call.has("all"))) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("maxTxId", Txid.format(p.maxTxid()));
      m.put("maxTimestamp", GoJson.time(p.timestamp()));
      m.put("postApplyChecksum", Checksum.format(p.postApplyChecksum()));
      paths.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", db);
    String clusterId = clusterIds.recorded(call.cluster());
    if (clusterId != null) out.put("clusterId", clusterId); // Strata: the LiteFS cluster the backups belong to
    out.put("restorablePaths", paths);
    call.json(out);
  }

  /** {@code GET /db/restore/check}. */
  void restoreCheck(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    Target t = target(call);
    BackupService.Checked c = service.restoreCheck(call.cluster(), db, t.txid, t.timestamp);
    Map<String, String> out = new LinkedHashMap<>();
    out.put("timestamp", GoJson.time(c.timestamp()));
    out.put("txID", Txid.format(c.txid()));
    call.json(out);
  }

  /** {@code POST /db/restore}. */
  void restore(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    Target t = target(call);
    long txid = service.restore(call.cluster(), db, t.txid, t.timestamp);
    call.json(Map.of("txID", Txid.format(txid)));
  }

  /** {@code POST /db/upload}: body is a SQLite database file. */
  void upload(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    long txid = service.importDatabase(call.cluster(), db, call.body());
    call.json(Map.of("txID", Txid.format(txid)));
  }

  /** {@code DELETE /db}; unbinds the cluster's LiteFS cluster ID when no database is left. */
  void delete(Call call) throws IOException {
    String db = Names.checkDatabase(call.param("db"));
    try {
      service.delete(call.cluster(), db);
    } finally {
      clusterIds.forgetIfEmpty(call.cluster()); // even after ENODB: a failed first upload binds an empty cluster
    }
    call.empty(200);
  }

  private record Target(Long txid, Instant timestamp) {}

  /** The {@code txid} or {@code timestamp} of a restore, validated as litefs-backup does. */
  private static Target target(Call call) {
    String txidText = call.param("txid"), tsText = call.param("timestamp");
    Long txid = null;
    Instant ts = null;
    if (!txidText.isEmpty()) {
      try {
        txid = Txid.parse(txidText);
      } catch (IllegalArgumentException e) {
        throw new ApiException(ErrorCode.EBADINPUT, "invalid txid");
      }
    }
    if (!tsText.isEmpty()) {
      try {
        ts = Timestamps.parse(tsText);
      } catch (IllegalArgumentException e) {
        throw new ApiException(ErrorCode.EBADINPUT, "invalid timestamp");
      }
    }
    if (txid != null && txid == 0) txid = null;
    if (txid != null && ts != null) {
      throw new ApiException(ErrorCode.EBADINPUT, "can't specify both 'txid' and 'timestamp'");
    }
    if (txid == null && ts == null) throw new ApiException(ErrorCode.EBADINPUT, "'txid' or 'timestamp' required");
    return new Target(txid, ts);
  }
}
