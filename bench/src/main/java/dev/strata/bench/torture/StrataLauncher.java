package dev.strata.bench.torture;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the harness starts {@code strata}: always as a separate process, so that kill -9 is real. Either a launcher
 * script ({@code bin/strata}) or this JVM's java with the classpath that holds the cli module.
 */
public final class StrataLauncher {
  private final List<String> prefix;
  private Path directory = Path.of(".");

  private StrataLauncher(List<String> prefix) {
    this.prefix = List.copyOf(prefix);
  }

  /** {@code script args…}, e.g. bin/strata. */
  static StrataLauncher script(Path script) {
    return new StrataLauncher(List.of(script.toAbsolutePath().toString()));
  }

  /** The running JVM's java and classpath (which must hold dev.strata.cli.Main). */
  static StrataLauncher sameClasspath() {
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
        "java").toString());
    return new StrataLauncher(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC", "-Xmx512m", "-cp", productionOnly(classpath()), "dev.strata.cli.Main"));
  }

  /**
   * Drops test jars and test classes (and the harness itself) from a classpath: the replica test-jar holds a
   * logback-test.xml that would silence strata's own logging, and strata must run as users run it.
   */
  public static String productionOnly(String classpath) {
    List<String> keep = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      if (entry.endsWith("-tests.jar") || entry.contains("test-classes") || entry.contains("bench/target/classes")
          || entry.contains("junit") || entry.contains("surefire")) {
        continue;
      }
      keep.add(entry);
    }
    return String.join(File.pathSeparator, keep);
  }

  /**
   * The classpath to hand to child JVMs. Under surefire, java.class.path may be a single manifest-only booter
   * jar; surefire.test.class.path then holds the real one.
   */
  public static String classpath() {
    String explicit = System.getProperty("strata.classpath");
    if (explicit != null && !explicit.isBlank()) return explicit;
    String surefire = System.getProperty("surefire.test.class.path");
    if (surefire != null && !surefire.isBlank()) return surefire;
    String cp = System.getProperty("java.class.path");
    boolean onlyBooter = !cp.contains(File.pathSeparator) && cp.contains("surefire");
    if (onlyBooter) throw new IllegalStateException("cannot find the strata classpath; set -Dstrata.classpath");
    return cp;
  }

  /** Runs every strata process in {@code dir}, so that whatever a bad relative path creates lands there. */
  void directory(Path dir) {
    this.directory = dir;
  }

  /** The working directory of strata processes. */
  Path directory() {
    return directory;
  }

  /** The full command line of {@code strata args…}. */
  List<String> command(String... args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  /** The full command line of {@code strata args…}. */
  List<String> command(List<String> args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(args);
    return cmd;
  }
}
