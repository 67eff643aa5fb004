package dev.strata.agent.exec;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * The application run with {@code -exec}: started with the agent's standard streams and environment, sent the
 * signals the agent receives, and waited for so that the agent can exit with its code.
 */
public final class ChildProcess {
  private static final MethodHandle KILL = Linker.nativeLinker().downcallHandle(
      Linker.nativeLinker().defaultLookup().find("kill").orElseThrow(),
      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

  private final Process process;

  private ChildProcess(Process process) {
    this.process = process;
  }

  /** Starts {@code command}, split into words like a shell would (no expansion). */
  public static ChildProcess start(String command) throws IOException {
    List<String> words = ShellWords.split(command);
    try {
      return new ChildProcess(new ProcessBuilder(words).inheritIO().start());
    } catch (IOException e) {
      throw new IOException("cannot run " + words.getFirst() + ": " + e.getMessage(), e);
    }
  }

  /** The child's process ID. */
  public long pid() {
    return process.pid();
  }

  /** Sends signal {@code signal} (e.g. 2 for SIGINT, 15 for SIGTERM) to the child, if it still runs. */
  public void signal(int signal) {
    if (!process.isAlive()) return;
    try {
      int rc = (int) KILL.invokeExact((int) process.pid(), signal);
      if (rc != 0) process.destroy();
    } catch (Throwable t) {
      process.destroy(); // SIGTERM
    }
  }

  /** Waits for the child to exit and returns its exit code (128 + n when killed by signal n). */
  public int waitFor() throws InterruptedException {
    return process.waitFor();
  }

  /** True while the child runs. */
  public boolean isAlive() {
    return process.isAlive();
  }
}
