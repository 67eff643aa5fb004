package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code strata version}: prints the version of Strata and of the runtime. */
@Command(name = "version", description = "Print the version.")
final class VersionCommand implements Runnable {
  @Override
  public void run() {
    System.out.println(version());
  }

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    // Runtime.version().toString() as the system property holds it (formatting the record costs a stream).
    String java = System.getProperty("java.runtime.version", Runtime.version().toString());
    // join, not +: string concatenation spins a class at its first use
    return String.join("", "strata ", v != null ? v : "dev", " (java ", java, ")");
  }

  /** Supplies {@code strata --version}. */
  static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {version()};
    }
  }
}
