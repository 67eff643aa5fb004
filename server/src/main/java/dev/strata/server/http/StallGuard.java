package dev.strata.server.http;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Cuts off clients that stop sending or receiving. The JDK's HTTP server has no per-read timeout, so each request
 * thread is watched while it is inside a socket read or write (including reading the request headers); one that
 * stays blocked longer than the timeout is interrupted, which closes its socket channel and fails the call.
 * Server-side work (waiting for the metadata writer, for storage) is never watched.
 */
final class StallGuard implements AutoCloseable {
  private final long timeoutNanos;
  private final Set<Watch> active = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;
  private final ThreadLocal<Watch> current = new ThreadLocal<>();

  StallGuard(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
        .name("strata-stall-guard").unstarted(r));
    long tick = Math.max(50, timeout.toMillis() / 4);
    timer.scheduleAtFixedRate(this::check, tick, tick, TimeUnit.MILLISECONDS);
  }

  /** Wraps an executor task: the thread is watched from its start, since the JDK reads the headers there. */
  Runnable watching(Runnable task) {
    return () -> {
      Watch w = new Watch(Thread.currentThread());
      current.set(w);
      active.add(w);
      w.begin();
      try {
        task.run();
      } finally {
        active.remove(w);
        current.remove();
        w.finish();
      }
    };
  }

  /** The watch of the calling request thread; null outside one. */
  Watch current() {
    return current.get();
  }

  private void check() {
    long now = System.nanoTime();
    for (Watch w : active) w.check(now);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  /** One request thread. */
  final class Watch {
    private final Thread thread;
    private long ioSince; // 0 when not blocked in I/O
    private boolean fired;

    Watch(Thread thread) {
      this.thread = thread;
    }

    synchronized void begin() {
      ioSince = System.nanoTime() | 1;
    }

    /** Leaves an I/O call; throws if the guard cut it off. */
    synchronized void end() throws IOException {
      ioSince = 0;
      if (fired) {
        Thread.interrupted();
        throw new InterruptedIOException("client stalled for more than " + timeoutNanos / 1_000_000 + " ms");
      }
    }

    synchronized void check(long now) {
      if (ioSince != 0 && !fired && now - ioSince > timeoutNanos) {
        fired = true;
        thread.interrupt();
      }
    }

    synchronized boolean fired() {
      return fired;
    }

    synchronized void finish() {
      ioSince = 0;
      if (fired) Thread.interrupted();
    }

    InputStream wrap(InputStream in) {
      return new FilterInputStream(in) {
        @Override
        public int read() throws IOException {
          begin();
          try {
            return in.read();
          } finally {
            end();
          }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          begin();
          try {
            return in.read(b, off, len);
          } finally {
            end();
          }
        }
      };
    }

    OutputStream wrap(OutputStream out) {
      return new FilterOutputStream(out) {
        @Override
        public void write(int b) throws IOException {
          begin();
          try {
            out.write(b);
          } finally {
            end();
          }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          begin();
          try {
            out.write(b, off, len);
          } finally {
            end();
          }
        }

        @Override
        public void flush() throws IOException {
          begin();
          try {
            out.flush();
          } finally {
            end();
          }
        }
      };
    }
  }
}
