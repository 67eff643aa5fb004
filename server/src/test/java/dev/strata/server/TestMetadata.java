package dev.strata.server;

import dev.strata.replica.testing.LocalPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The metadata store the server tests run on: the embedded SQLite file, or, in the build's second test run
 * ({@code -Dstrata.test.metadata=postgres}), a real PostgreSQL started once for the JVM with one database per data
 * directory, so that a server restarted on the same directory finds its metadata again.
 */
final class TestMetadata {
  /** True in the PostgreSQL run. */
  static final boolean POSTGRES = "postgres".equals(System.getProperty("strata.test.metadata"));

  private static LocalPostgres postgres;
  private static final Map<Path, String> URLS = new HashMap<>();
  private static final AtomicInteger NEXT = new AtomicInteger();

  private TestMetadata() {}

  /** The metadata URL for a server on {@code data}: null (embedded) unless this is the PostgreSQL run. */
  static synchronized String urlFor(Path data) {
    if (!POSTGRES) return null;
    return URLS.computeIfAbsent(data.toAbsolutePath().normalize(), d -> freshDatabase());
  }

  /** A new, empty PostgreSQL database (whatever the run), for tests of several instances. */
  static synchronized String freshDatabase() {
    try {
      return postgres().createDatabase("t" + NEXT.incrementAndGet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A new PostgreSQL database whose every statement goes to {@link LocalPostgres#logFile} ({@code log_statement}). */
  static String freshLoggedDatabase() throws IOException {
    String url = freshDatabase();
    String database = url.substring(url.lastIndexOf('/') + 1);
    postgres().psql(database, "ALTER DATABASE " + database + " SET log_statement = 'all'");
    return url;
  }

  /** The JVM's PostgreSQL server, started on first use (its watchdog stops it when the JVM ends). */
  static synchronized LocalPostgres postgres() {
    if (postgres == null) {
      try {
        postgres = LocalPostgres.start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      LocalPostgres started = postgres;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          started.close();
        } catch (Exception ignored) {
          // the watchdog stops it anyway
        }
      }));
    }
    return postgres;
  }
}
