package dev.strata.bench.torture;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** mount(8) and friends, for the faults that need the kernel's help (the harness normally runs as root). */
final class Mounts {
  private Mounts() {}

  /** Runs a system command; returns null on success, else its error line. */
  static String run(Path logDir, String name, String... cmd) {
    try {
      CommandRun r = CommandRun.run(List.of(cmd), Duration.ofSeconds(30), logDir.resolve(name));
      return r.exit() == 0 ? null : (cmd[0] + ": " + r.lastLine());
    } catch (IOException e) {
      return cmd[0] + ": " + e.getMessage();
    }
  }

  /** Makes {@code dir} read-only by bind-mounting it over itself read-only; null on success. */
  static String bindReadOnly(Path logDir, Path dir) {
    String err = run(logDir, "mount-bind", "mount", "--bind", dir.toString(), dir.toString());
    if (err != null) return err;
    err = run(logDir, "mount-ro", "mount", "-o", "remount,ro,bind", dir.toString());
    if (err != null) run(logDir, "umount", "umount", dir.toString());
    return err;
  }

  /** Unmounts whatever is mounted on {@code dir}; lazily if it is busy. */
  static String unmount(Path logDir, Path dir) {
    String err = run(logDir, "umount", "umount", dir.toString());
    if (err != null) err = run(logDir, "umount-lazy", "umount", "-l", dir.toString());
    return err;
  }
}
