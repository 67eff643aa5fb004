package dev.strata.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code strata} command: one subcommand per job. */
@Command(
    name = "strata",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Continuous backup, replication and point-in-time restore for SQLite.",
    subcommands = {
      VersionCommand.class,
      LtxCommand.class,
      ReplicateCommand.class,
      RestoreCommand.class,
      SnapshotsCommand.class,
      RestorePointsCommand.class,
      VerifyCommand.class,
      ServeCommand.class,
      ClusterCommand.class,
      RekeyCommand.class,
      CompactCommand.class,
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    Thread.setDefaultUncaughtExceptionHandler(Main::threadFailed);
    System.exit(run(args));
  }

  /**
   * A failure no code caught, on a background thread (a decoder, an uploader, a library's loader): one line, as
   * every other error, instead of the JVM's stack trace.
   */
  static void threadFailed(Thread thread, Throwable e) {
    System.err.println("strata: thread " + thread.getName() + " failed: " + CliErrors.oneLine(e));
    debugTrace(e, System.err);
  }

  /** With STRATA_DEBUG set, the stack trace too, its messages redacted as the line's are. */
  private static void debugTrace(Throwable e, PrintStream err) {
    if (System.getenv("STRATA_DEBUG") == null) return;
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    err.print(CliErrors.redact(trace.toString()));
  }

  /** Runs a command line and returns its exit code; errors print one line, never a stack trace. */
  public static int run(String... args) {
    return run(() -> new CommandLine(new Main()), args);
  }

  /** Runs {@code args} on the command {@code commands} builds (tests pass their own) with the CLI's error handling. */
  static int run(Supplier<CommandLine> commands, String... args) {
    try {
      CommandLine cl = commands.get();
      cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
        cmd.getErr().println("strata: " + CliErrors.oneLine(e));
        cmd.getErr().flush();
        debugTrace(e, System.err);
        return 1;
      });
      cl.setParameterExceptionHandler((e, params) -> {
        // picocli quotes the arguments it could not match, and an argument may be a URL with keys in it
        e.getCommandLine().getErr().println("strata: " + CliErrors.redact(e.getMessage()));
        e.getCommandLine().getErr().println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName()
            + " --help' for more information.");
        return 2;
      });
      return cl.execute(args);
    } catch (Throwable e) { // an Error, which picocli lets through, or one while building the command line
      System.err.println("strata: " + CliErrors.oneLine(e));
      debugTrace(e, System.err);
      return 1;
    }
  }
}
