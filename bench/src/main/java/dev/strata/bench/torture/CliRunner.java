package dev.strata.bench.torture;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs a strata command inside this JVM ({@code dev.strata.cli.Main.run}), capturing what it prints. Used where
 * thousands of runs would otherwise each pay a JVM start (the bit-flip sweep); a sample of those runs is repeated
 * as real processes. Never used for the agent, which must be a process so that kill -9 is real.
 */
final class CliRunner {
  /** Exit code and output of one run; {@code threw} is an exception that escaped Main.run (itself a finding). */
  record Result(int exit, String stdout, String stderr, Throwable threw) {}

  private CliRunner() {}

  static CliRunner inProcess() {
    return new CliRunner();
  }

  /** Runs {@code strata args…}; System.out and System.err are swapped for the duration, so calls serialise. */
  Result run(List<String> args) {
    synchronized (CliRunner.class) {
      PrintStream oldOut = System.out, oldErr = System.err;
      ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
      int exit;
      Throwable threw = null;
      try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
          PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
        System.setOut(o);
        System.setErr(e);
        exit = dev.strata.cli.Main.run(args.toArray(String[]::new));
      } catch (Throwable t) {
        threw = t;
        exit = -1;
      } finally {
        System.setOut(oldOut);
        System.setErr(oldErr);
      }
      return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), threw);
    }
  }
}
