package dev.strata.bench.torture;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.FileReplicaClient;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A replica in a local directory, plain or age-encrypted ({@code file-age}: every file an age file, keys in the URL
 * as users give them); its storage fault is the directory turning read-only (a bind mount).
 */
final class FileTarget implements ReplicaTarget {
  private final Path dir;
  private final Path logDir;
  private final ReplicaClient client;
  private final AgeKeys keys;
  private final boolean canFail;
  private boolean readOnly;

  FileTarget(Path dir, Path logDir) throws IOException {
    this(dir, logDir, AgeKeys.NONE);
  }

  /** An encrypted replica in {@code dir}, its key pair new and kept beside it. */
  static FileTarget encrypted(Path dir, Path logDir) throws IOException {
    AgeKeys.Identity id = AgeKeys.newIdentity();
    Path keyFile = dir.resolveSibling(dir.getFileName() + "-age-key.txt");
    Files.createDirectories(dir.getParent());
    Files.writeString(keyFile, id.fileText());
    return new FileTarget(dir, logDir, new AgeKeys(List.of(id.recipient()), List.of(keyFile)));
  }

  private FileTarget(Path dir, Path logDir, AgeKeys keys) throws IOException {
    this.dir = dir;
    this.logDir = logDir;
    this.keys = keys;
    Files.createDirectories(dir);
    FileReplicaClient files = new FileReplicaClient(dir);
    this.client = keys.isEmpty() ? files : AgeReplicaClient.wrap(files, keys);
    // Probe once: without mount permission this target has no storage fault to offer.
    this.canFail = Mounts.bindReadOnly(logDir, dir) == null && Mounts.unmount(logDir, dir) == null;
  }

  @Override
  public String name() {
    return keys.isEmpty() ? "file" : "file-age";
  }

  @Override
  public String agentUrl() {
    String url = "file://" + dir.toAbsolutePath();
    if (keys.isEmpty()) return url;
    return url + "?age-recipient=" + keys.recipients().getFirst() + "&age-identity="
        + URLEncoder.encode(keys.identities().getFirst().toString(), StandardCharsets.UTF_8);
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
