package dev.strata.ltx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the golden files of {@code ../shared/testdata} written by the Go reference implementation. */
final class Golden {
  private Golden() {}

  static Path shared() {
    String prop = System.getProperty("strata.shared");
    Path p = prop != null ? Path.of(prop) : Path.of("../../shared");
    if (!Files.isDirectory(p)) p = Path.of("../shared");
    return p.toAbsolutePath().normalize();
  }

  static Path file(String dir, String name) {
    return shared().resolve("testdata").resolve(dir).resolve(name);
  }

  static byte[] bytes(String name) {
    try {
      return Files.readAllBytes(file("ltx-golden", name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
