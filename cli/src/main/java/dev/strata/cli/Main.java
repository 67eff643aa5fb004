package dev.strata.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code strata} command: one subcommand per job.
 *
 * <p>Start-up: picocli builds a command's model by reflection over its class, its options and its subcommands, and
 * its jar (Java 5 class files) is left out of the AOT cache, so each command it models costs milliseconds. Only the
 * subcommand a command line names is modelled from its class; the others are listed in the usage by name and
 * description alone ({@link #commandLine}), and {@code strata version} never loads picocli at all.
 */
@Command(
    name = "strata",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Continuous backup, replication and point-in-time restore for SQLite.")
public final class Main implements Runnable {
  /** The subcommands, in the order the usage lists them. */
  static final List<Class<?>> SUBCOMMANDS = List.of(
      VersionCommand.class,
      LtxCommand.class,
      ReplicateCommand.class,
      RestoreCommand.class,
      SnapshotsCommand.class,
      RestorePointsCommand.class,
      VerifyCommand.class,
      ServeCommand.class,
      ClusterCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    Thread.setDefaultUncaughtExceptionHandler(Main::threadFailed);
    if (printsVersion(args)) {
      System.out.println(VersionCommand.version()); // what picocli would print, without loading it
      return;
    }
    int code = run(args);
    // System.exit looks up a System.Logger (to log the exit at debug level), and finding none, the JVM searches
    // every jar of the class path for a logging service: some 40 ms. A command that only printed its usage has
    // started no thread, so it returns instead, and the JVM exits with status 0 as main ends.
    if (code == 0 && printsUsage(args)) return;
    System.exit(code);
  }

  /** {@code strata}, or any command line asking for help: picocli prints a usage and starts nothing. */
  static boolean printsUsage(String... args) {
    return args.length == 0 || List.of(args).contains("--help") || List.of(args).contains("-h");
  }

  /** {@code strata version}, {@code --version} or {@code -V}: answered before picocli is loaded. */
  static boolean printsVersion(String... args) {
    return args.length == 1 && (args[0].equals("version") || args[0].equals("--version") || args[0].equals("-V"));
  }

  /**
   * The command line for {@code args}: the subcommand the first argument names is modelled from its class (and so
   * are its own subcommands); every other one is a stand-in with its name and description, enough for the usage.
   */
  static CommandLine commandLine(String... args) {
    CommandLine cl = new CommandLine(new Main());
    String named = args.length > 0 ? args[0] : "";
    for (Class<?> c : SUBCOMMANDS) {
      Command a = c.getAnnotation(Command.class);
      if (a.name().equals(named)) {
        cl.addSubcommand(a.name(), c);
      } else {
        CommandLine.Model.CommandSpec stub = CommandLine.Model.CommandSpec.create().name(a.name());
        stub.usageMessage().description(a.description());
        cl.addSubcommand(a.name(), new CommandLine(stub));
      }
    }
    return cl;
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
    return run(() -> commandLine(args), args);
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
