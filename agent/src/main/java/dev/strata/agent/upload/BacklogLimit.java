package dev.strata.agent.upload;

import dev.strata.agent.capture.LocalFile;
import dev.strata.agent.capture.LocalStore;
import dev.strata.agent.capture.WalCapture;
import dev.strata.ltx.Txid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the files waiting for a lagging replica from outgrowing the database. Without a bound, a replica that is
 * down for long while a busy database is written fills the disk the database lives on.
 *
 * <p>Once the level-0 files held after the newest local snapshot add up to more than the database file (and more
 * than the options' backlog floor), one snapshot carries the same latest state in fewer bytes: capture is asked for
 * one, and once it is in the store every file below it is dropped. A replica that still lacked those files takes
 * the snapshot instead when it is reachable again: it loses the restore points in between, never the latest state.
 * Replicas that kept up upload the snapshot too, as they do any snapshot.
 */
public final class BacklogLimit {
  private static final Logger log = LoggerFactory.getLogger(BacklogLimit.class);

  private final WalCapture capture;
  private final LocalStore store;
  private final long floor;
  private long requestedAt = -1; // the local TXID when a snapshot was asked for; -1 while none is awaited

  public BacklogLimit(WalCapture capture, long floor) {
    this.capture = capture;
    this.store = capture.store();
    this.floor = floor;
  }

  /** Asks for a snapshot when the backlog is over the limit, and drops what an awaited snapshot replaced. */
  public void check() throws IOException {
    LocalFile snapshot = null;
    for (LocalFile f : store.files()) {
      if (f.level() != 0 && (snapshot == null || Long.compareUnsigned(f.maxTxid(), snapshot.maxTxid()) > 0)) {
        snapshot = f;
      }
    }
    if (requestedAt >= 0) {
      if (snapshot == null || Long.compareUnsigned(snapshot.maxTxid(), requestedAt) <= 0) return; // not written yet
      requestedAt = -1;
      List<LocalFile> dropped = store.deleteThrough(snapshot.maxTxid() - 1);
      log.info("{}: dropped {} local files ({} bytes) below the snapshot at TXID {}: lagging replicas take the"
          + " snapshot instead", capture.name(), dropped.size(), dropped.stream().mapToLong(LocalFile::size).sum(),
          Txid.format(snapshot.maxTxid()));
      return;
    }
    long after = snapshot == null ? 0 : snapshot.maxTxid();
    long backlog = 0;
    for (LocalFile f : store.after(after)) if (f.level() == 0) backlog += f.size();
    long limit = Math.max(floor, databaseBytes());
    if (backlog <= limit) return;
    requestedAt = capture.txid();
    capture.requestSnapshot(requestedAt, "the level-0 files waiting for a lagging replica (" + backlog
        + " bytes) outgrew the database (limit " + limit + " bytes)");
  }

  private long databaseBytes() throws IOException {
    try {
      return Files.size(capture.database());
    } catch (NoSuchFileException e) {
      return 0; // deleted for now: capture waits for it, and so does this
    }
  }
}
