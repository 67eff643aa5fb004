package dev.strata.agent.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which file a path names: device and inode. A database replaced by another file gets a new identity. */
public record FileIdentity(long device, long inode) {
  /** The identity of the file at {@code path}; throws {@link java.nio.file.NoSuchFileException} if absent. */
  public static FileIdentity of(Path path) throws IOException {
    var attrs = Files.readAttributes(path, "unix:dev,ino");
    return new FileIdentity(((Number) attrs.get("dev")).longValue(), ((Number) attrs.get("ino")).longValue());
  }
}
