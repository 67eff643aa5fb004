package dev.strata.server;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand, so retention and timestamps can be exercised without sleeping. */
final class MutableClock implements InstantSource {
  private final AtomicLong millis;

  MutableClock(Instant start) {
    millis = new AtomicLong(start.toEpochMilli());
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public long millis() {
    return millis.get();
  }

  void advance(Duration d) {
    millis.addAndGet(d.toMillis());
  }

  void set(Instant t) {
    millis.set(t.toEpochMilli());
  }
}
