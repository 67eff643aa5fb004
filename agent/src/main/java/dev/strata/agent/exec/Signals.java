package dev.strata.agent.exec;

import java.util.function.IntConsumer;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM handling for the agent process: the handler replaces the JVM's default (which would exit with
 * 130/143 before the final sync), so that the agent can sync, forward the signal to an {@code -exec} child, and
 * exit with the right code.
 */
public final class Signals {
  /** SIGINT's number. */
  public static final int SIGINT = 2;
  /** SIGTERM's number. */
  public static final int SIGTERM = 15;

  private Signals() {}

  /** Calls {@code handler} with the signal number on every SIGINT and SIGTERM. */
  @SuppressWarnings("removal")
  public static void onTerminate(IntConsumer handler) {
    Signal.handle(new Signal("INT"), s -> handler.accept(s.getNumber()));
    Signal.handle(new Signal("TERM"), s -> handler.accept(s.getNumber()));
  }
}
