package dev.strata.cli;

import dev.strata.replica.age.AgeReplicaClient;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * The {@code strata} command: one subcommand per job.
 *
 * <p>Start-up: picocli builds a command's model by reflection over its class, its options and its subcommands, and
 * each annotation type it reads costs a proxy class spun at run time. So this command's own model is built without
 * reflection ({@link #commandLine}), only the subcommand a command line names is modelled from its class, the others
 * are listed in the usage from {@link #SUBCOMMANDS} alone, and {@code strata version} never loads picocli at all.
 */
public final class Main implements Runnable {
  /** A subcommand: its name and the first line of its description, as its annotation has them. */
  record Subcommand(String name, String summary, Class<?> type) {}

  /** The subcommands, in the order the usage lists them (MainTest checks them against their annotations). */
  static final List<Subcommand> SUBCOMMANDS = List.of(
      new Subcommand("version", "Print the version.", VersionCommand.class),
      new Subcommand("ltx", "List a replica's LTX files, or inspect LTX files.", LtxCommand.class),
      new Subcommand("replicate",
          "Replicate SQLite databases continuously: every commit, captured from the WAL, to each replica.",
          ReplicateCommand.class),
      new Subcommand("restore", "Restore a database from a replica, to its latest state, a TXID or a time.",
          RestoreCommand.class),
      new Subcommand("sync",
          "Ask strata replicate for a sync pass now, or wait until commits are durable on the replicas.",
          SyncCommand.class),
      new Subcommand("status",
          "Show a running strata replicate's TXIDs: the database's and each replica's, with lag and errors.",
          StatusCommand.class),
      new Subcommand("snapshots", "List the snapshots (level 9) of a replica.", SnapshotsCommand.class),
      new Subcommand("import", "Convert a Litestream replica's history into a Strata replica.", ImportCommand.class),
      new Subcommand("restore-points", "List the TXIDs and times a replica can restore to.",
          RestorePointsCommand.class),
      new Subcommand("verify", "Restore a replica's latest state into a temporary directory and check it.",
          VerifyCommand.class),
      new Subcommand("serve", "Run the LiteFS-compatible backup server (a drop-in for litefs-backup).",
          ServeCommand.class),
      new Subcommand("cluster",
          "Manage a backup server's cluster: list, info, export, import, restore, delete (as lfsb).",
          ClusterCommand.class),
      new Subcommand("rekey", "Re-encrypt every file of a replica to new age recipients, atomically per file; resumable.",
          RekeyCommand.class),
      new Subcommand("compact",
          "Compact a replica once: each level, a snapshot, then retention (default level settings).",
          CompactCommand.class));

  static {
    // picocli's default factory looks for Groovy's Closure class, and a class the class path lacks is looked for in
    // every one of its jars (some 25 ms) unless this is set.
    if (System.getProperty("picocli.disable.closures") == null) System.setProperty("picocli.disable.closures", "true");
  }

  private CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    // Classes rather than lambdas on the start-up path: the first lambda spins its class with the class-file API
    // (some 15 ms), unless the AOT cache holds it, which it does not for classes that name picocli's.
    Thread.setDefaultUncaughtExceptionHandler(new Thread.UncaughtExceptionHandler() {
      @Override
      public void uncaughtException(Thread t, Throwable e) {
        threadFailed(t, e);
      }
    });
    if (printsVersion(args)) {
      System.out.println(VersionCommand.version()); // what picocli would print, without loading it
      return;
    }
    // An encrypted restore cannot open its first file before OpenSSL is bound: begun here, the binding overlaps
    // picocli's parsing instead of following it (some 20 ms sooner to the first byte).
    if (namesAgeIdentity(args)) AgeReplicaClient.preload();
    int code = run(args);
    // System.exit looks up a System.Logger (to log the exit at debug level), and finding none, the JVM searches
    // every jar of the class path for a logging service: some 40 ms. A command that only printed its usage has
    // started no thread, so it returns instead, and the JVM exits with status 0 as main ends.
    if (code == 0 && printsUsage(args)) return;
    System.exit(code);
  }

  /** An age identity given on the command line, as a flag or in a replica URL. */
  static boolean namesAgeIdentity(String... args) {
    for (String a : args) {
      if (a.startsWith("--age-identity") || a.contains("age-identity=")) return true;
    }
    return false;
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
    Main main = new Main();
    CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.wrapWithoutInspection(main)
        .name("strata")
        .versionProvider(new VersionCommand.Provider());
    // mixinStandardHelpOptions' options, which picocli would read from its annotated mixin class
    spec.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
        .description("Show this help message and exit.").build());
    spec.addOption(CommandLine.Model.OptionSpec.builder("-V", "--version").versionHelp(true)
        .description("Print version information and exit.").build());
    spec.usageMessage().description("Continuous backup, replication and point-in-time restore for SQLite.");
    main.spec = spec;
    CommandLine cl = new CommandLine(spec);
    String named = args.length > 0 ? args[0] : "";
    for (Subcommand c : SUBCOMMANDS) {
      if (c.name().equals(named)) {
        cl.addSubcommand(c.name(), c.type());
      } else {
        CommandLine.Model.CommandSpec stub = CommandLine.Model.CommandSpec.create().name(c.name());
        stub.usageMessage().description(c.summary());
        cl.addSubcommand(c.name(), new CommandLine(stub));
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
    return run(new Supplier<CommandLine>() {
      @Override
      public CommandLine get() {
        return commandLine(args);
      }
    }, args);
  }

  /** Runs {@code args} on the command {@code commands} builds (tests pass their own) with the CLI's error handling. */
  static int run(Supplier<CommandLine> commands, String... args) {
    try {
      CommandLine cl = commands.get();
      cl.setExecutionExceptionHandler(new CommandLine.IExecutionExceptionHandler() {
        @Override
        public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
          cmd.getErr().println("strata: " + CliErrors.oneLine(e));
          cmd.getErr().flush();
          debugTrace(e, System.err);
          return 1;
        }
      });
      cl.setParameterExceptionHandler(new CommandLine.IParameterExceptionHandler() {
        @Override
        public int handleParseException(CommandLine.ParameterException e, String[] params) {
          // picocli quotes the arguments it could not match, and an argument may be a URL with keys in it
          e.getCommandLine().getErr().println("strata: " + CliErrors.redact(e.getMessage()));
          e.getCommandLine().getErr().println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName()
              + " --help' for more information.");
          return 2;
        }
      });
      return cl.execute(args);
    } catch (Throwable e) { // an Error, which picocli lets through, or one while building the command line
      System.err.println("strata: " + CliErrors.oneLine(e));
      debugTrace(e, System.err);
      return 1;
    }
  }
}
