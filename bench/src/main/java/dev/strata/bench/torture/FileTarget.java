package dev.strata.bench.torture;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;

/** A replica in a local directory; its storage fault is the directory turning read-only (a bind mount). */
final class FileTarget implements ReplicaTarget {
  private final Path dir;
  private final Path logDir;
  private final FileReplicaClient client;
  private final boolean canFail;
  private boolean readOnly;

  FileTarget(Path dir, Path logDir) throws IOException {
    this.dir = dir;
    this.logDir = logDir;
    Files.createDirectories(dir);
    this.client = new FileReplicaClient(dir);
    // Probe once: without mount permission this target has no storage fault to offer.
    this.canFail = Mounts.bindReadOnly(logDir, dir) == null && Mounts.unmount(logDir, dir) == null;
  }

  @Override
  public String name() {
    return "file";
  }

  @Override
  public String agentUrl() {
    return "file://" + dir.toAbsolutePath();
  }

  @Override
  public String restoreUrl() {
    return agentUrl();
  }

  @Override
  public ReplicaClient client() {
    return client;
  }

  @Override
  public Set<FaultKind> storageFaults() {
    return canFail ? Set.of(FaultKind.FILE_READONLY) : Set.of();
  }

  @Override
  public String startFault(FaultKind kind, Random rng) throws IOException {
    if (kind != FaultKind.FILE_READONLY) throw new IllegalArgumentException(kind + " not supported by file");
    String err = Mounts.bindReadOnly(logDir, dir);
    if (err != null) throw new IOException("cannot make " + dir + " read-only: " + err);
    readOnly = true;
    return "read-only bind mount on " + dir;
  }

  @Override
  public void endFault() throws IOException {
    if (!readOnly) return;
    String err = Mounts.unmount(logDir, dir);
    if (err != null) throw new IOException("cannot unmount " + dir + ": " + err);
    readOnly = false;
  }

  /** The directory. */
  Path dir() {
    return dir;
  }

  @Override
  public void close() throws IOException {
    endFault();
  }
}
