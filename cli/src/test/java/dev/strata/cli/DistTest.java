package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The distribution end to end: cli/src/test/dist/test-dist.sh (bin/dist, the tarball's launcher with no JDK, the
 * container entrypoint, the .deb). It needs the packaged jar, so it runs in the integration-test phase (cli/pom.xml,
 * the dist-test execution), which sets strata.dist.test; STRATA_DIST_TEST=0 skips it.
 */
class DistTest {
  @Test
  void tarballEntrypointAndDeb() throws Exception {
    assumeTrue(Boolean.getBoolean("strata.dist.test"), "runs after package (the dist-test execution)");
    assumeTrue(!"0".equals(System.getenv("STRATA_DIST_TEST")), "STRATA_DIST_TEST=0");
    Path root = Path.of(System.getProperty("user.dir")).getParent(); // surefire runs in cli/
    Path script = root.resolve("cli/src/test/dist/test-dist.sh");
    assumeTrue(Files.isExecutable(script), "no " + script);
    Process p = new ProcessBuilder(script.toString()).directory(root.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
    boolean done = p.waitFor(10, TimeUnit.MINUTES);
    if (!done) p.destroyForcibly();
    assertThat(done).as("test-dist.sh finished").isTrue();
    assertThat(p.exitValue()).as("test-dist.sh exit code (its output is above)").isZero();
  }
}
