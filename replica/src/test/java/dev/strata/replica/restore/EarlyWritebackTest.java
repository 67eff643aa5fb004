package dev.strata.replica.restore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writeback hints change nothing but timing: the file stays as written, and a missing file only disables them. */
class EarlyWritebackTest {
  @TempDir Path dir;

  @Test
  void hintsLeaveTheFileAsWritten() throws Exception {
    Path f = dir.resolve("f");
    byte[] data = new byte[3 << 20];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31);
    Files.write(f, data);
    try (EarlyWriteback w = EarlyWriteback.open(f, 1 << 20)) {
      w.written(1 << 20);
      w.written(2 << 20);
      w.written(data.length + 4096); // past the end: ignored by the kernel
    }
    assertThat(Files.readAllBytes(f)).isEqualTo(data);
  }

  @Test
  void aMissingFileDisablesTheHints() {
    try (EarlyWriteback w = EarlyWriteback.open(dir.resolve("missing"), 4096)) {
      w.written(8192);
      w.close(); // twice is harmless
    }
  }
}
