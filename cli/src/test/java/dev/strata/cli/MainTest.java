package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Whatever a command throws, the CLI prints one line and no stack trace. */
class MainTest {
  @CommandLine.Command(name = "fails")
  static final class Fails implements Callable<Integer> {
    @CommandLine.Parameters String what;

    @Override
    public Integer call() {
      switch (what) {
        case "error" -> throw new AssertionError("an error, not an exception");
        case "linkage" -> throw new NoClassDefFoundError("dev/strata/Missing");
        default -> throw new IllegalStateException(null, new RuntimeException("inner"));
      }
    }
  }

  @Test
  void everyThrowableIsOneLine() {
    for (String what : new String[] {"error", "linkage", "exception"}) {
      assertThat(run(() -> new CommandLine(new Fails()), what)).as(what).hasSize(1).allSatisfy(line ->
          assertThat(line).startsWith("strata: ").doesNotContain("\tat "));
    }
    assertThat(run(() -> {
      throw new NoClassDefFoundError("dev/strata/server/ServerConfig"); // a jar changed under a running CLI
    })).containsExactly("strata: dev/strata/server/ServerConfig");
  }

  @Test
  void anAgeIdentityAsAFlagOrInAUrlStartsBindingOpenSslEarly() {
    assertThat(Main.namesAgeIdentity("restore", "--age-identity", "key.txt", "file:///r")).isTrue();
    assertThat(Main.namesAgeIdentity("restore", "--age-identity=key.txt", "file:///r")).isTrue();
    assertThat(Main.namesAgeIdentity("restore", "file:///r?age-identity=/k.txt")).isTrue();
    assertThat(Main.namesAgeIdentity("restore", "-o", "age.db", "file:///age")).isFalse();
  }

  @Test
  void theUsageListsEachSubcommandAsItsAnnotationDescribesIt() {
    java.util.Set<String> listed = new java.util.HashSet<>();
    for (Main.Subcommand c : Main.SUBCOMMANDS) {
      CommandLine.Command a = c.type().getAnnotation(CommandLine.Command.class);
      assertThat(c.name()).isEqualTo(a.name());
      assertThat(c.summary()).isEqualTo(a.description()[0]);
      listed.add(c.name());
    }
    // and the usage is what picocli renders from the annotations
    CommandLine full = new CommandLine(new FullModel());
    for (Main.Subcommand c : Main.SUBCOMMANDS) full.addSubcommand(c.name(), c.type());
    String expected = full.getUsageMessage(CommandLine.Help.Ansi.OFF);
    assertThat(Main.commandLine("--help").getUsageMessage(CommandLine.Help.Ansi.OFF)).isEqualTo(expected);
    assertThat(Main.commandLine("restore", "--help").getSubcommands().get("restore").getCommandSpec().options())
        .isNotEmpty(); // the named subcommand is the real one
    assertThat(listed).hasSize(Main.SUBCOMMANDS.size());
  }

  @CommandLine.Command(name = "strata", mixinStandardHelpOptions = true,
      description = "Continuous backup, replication and point-in-time restore for SQLite.")
  static final class FullModel {}

  @Test
  void aFailureOnABackgroundThreadIsOneLine() throws Exception {
    PrintStream oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      Thread t = new Thread(() -> {
        throw new IllegalStateException("lost at s3://AKIAX:SUPERSEKRIT@bkt");
      }, "restore-decode-x");
      t.setUncaughtExceptionHandler(Main::threadFailed); // what main() installs for every thread
      t.start();
      t.join();
    } finally {
      System.setErr(oldErr);
    }
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("strata: thread restore-decode-x failed: lost at s3://***@bkt\n");
  }

  private static java.util.List<String> run(java.util.function.Supplier<CommandLine> commands, String... args) {
    PrintStream oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run(commands, args)).isEqualTo(1);
    } finally {
      System.setErr(oldErr);
    }
    return err.toString(StandardCharsets.UTF_8).lines().toList();
  }
}
