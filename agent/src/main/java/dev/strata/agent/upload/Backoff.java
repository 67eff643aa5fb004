package dev.strata.agent.upload;

import java.time.Duration;

/** Exponential backoff between retries: doubles from {@code initial} up to {@code max}, reset on success. */
public final class Backoff {
  private final Duration initial;
  private final Duration max;
  private Duration next;

  public Backoff(Duration initial, Duration max) {
    this.initial = initial;
    this.max = max;
    this.next = initial;
  }

  /** The wait before the next retry; doubles the one after. */
  public Duration next() {
    Duration d = next;
    Duration doubled = next.multipliedBy(2);
    next = doubled.compareTo(max) > 0 ? max : doubled;
    return d;
  }

  /** Starts over from {@code initial}. */
  public void reset() {
    next = initial;
  }
}
