package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gives a storage directory the simulated clock: every file that appears is stamped with the simulated time as its
 * modification time, which is what a file or S3 backend reports as the time the file was stored. Without it, a
 * server whose clock runs weeks ahead would judge every stored file weeks old (in production the server's and the
 * storage's clocks agree). Only directories whose modification time moved are listed again.
 */
final class StorageClock {
  private record Seen(FileTime mtime, long scannedAt, List<Path> dirs) {}

  private final Path root;
  private final InstantSource clock;
  private final Map<Path, Seen> seen = new HashMap<>();
  private final Set<Path> stamped = new HashSet<>();

  StorageClock(Path root, InstantSource clock) {
    this.root = root;
    this.clock = clock;
  }

  /** Stamps the files that appeared since the last call with the simulated now. */
  void stamp() throws IOException {
    if (Files.isDirectory(root)) visit(root);
  }

  private void visit(Path dir) throws IOException {
    FileTime m = Files.getLastModifiedTime(dir);
    Seen s = seen.get(dir);
    // A directory changed within the file system's timestamp granularity of the last scan may hide a change.
    boolean fresh = s == null || !s.mtime().equals(m) || s.scannedAt() - m.toMillis() < 100;
    List<Path> dirs;
    if (fresh) {
      dirs = new ArrayList<>();
      Set<Path> present = new HashSet<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
        for (Path p : ds) {
          if (Files.isDirectory(p)) {
            dirs.add(p);
          } else if (p.getFileName().toString().endsWith(".ltx")) {
            present.add(p);
            if (stamped.add(p)) Files.setLastModifiedTime(p, FileTime.from(clock.instant()));
          }
        }
      }
      stamped.removeIf(p -> p.getParent().equals(dir) && !present.contains(p));
      seen.put(dir, new Seen(m, System.currentTimeMillis(), dirs));
    } else {
      dirs = s.dirs();
    }
    for (Path d : dirs) visit(d);
  }
}
