package dev.strata.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Phaser;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;

/**
 * The metadata store on PostgreSQL, shared by any number of server instances. Each write is its own transaction on
 * a pooled connection (PostgreSQL groups concurrent commits into one WAL flush by itself, so there is no writer
 * thread as in the embedded store); writes to one database queue on its row lock ({@link Rows#lockDb}). Reads run
 * in a read-only REPEATABLE READ transaction: one consistent state, as in the embedded store.
 *
 * <p>The schema is created and migrated at start by Flyway (migrations in {@code db/postgresql}, history in
 * {@code strata_schema_history}); instances starting together take Flyway's advisory lock in turn. A schema newer
 * than this binary knows is refused.
 *
 * <p>PostgreSQL unreachable: reads and writes fail at once with {@code EUNAVAILABLE} (HTTP 503, which LiteFS
 * retries); nothing is half-written, and the pool reconnects by itself once the server is back.
 */
public final class PostgresMetadataStore implements MetadataStore {
  /** The newest schema version this binary knows: the highest {@code V<n>__…sql} in {@code db/postgresql}. */
  static final int VERSION = 2;
  private static final String HISTORY_TABLE = "strata_schema_history";
  private static final int ATTEMPTS = 5;

  private final HikariDataSource pool;
  private final String described;
  private final AtomicLong commits = new AtomicLong();
  /** Writes in flight, so that {@link #close} lets them finish. */
  private final Phaser inFlight = new Phaser(1);
  private volatile boolean closed;

  /** Uploads written several to a transaction under load; a quarter of the pool's connections at most. */
  private final UploadBatches uploads;

  private PostgresMetadataStore(HikariDataSource pool, String described) {
    this.pool = pool;
    this.described = described;
    this.uploads = new UploadBatches(new UploadBatches.Transactions() {
      @Override
      public <T> T write(SqlJob<T> job) throws IOException {
        return runWrite(job);
      }
    }, Math.max(2, pool.getMaximumPoolSize() / 4));
  }

  /** Connects to {@code url} ({@code postgres://user:password@host:port/database?…}) and migrates the schema. */
  public static PostgresMetadataStore open(String url) throws IOException {
    Target t = Target.parse(url);
    HikariDataSource pool = t.pool();
    try {
      migrate(pool, t);
      return new PostgresMetadataStore(pool, t.described());
    } catch (IOException | RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  /**
   * {@code strata serve --check}: connects, reads the schema version and says whether this binary can run on it,
   * without changing anything. Returns one line to print; throws with one line when it cannot run.
   */
  public static String check(String url) throws IOException {
    Target t = Target.parse(url);
    try (HikariDataSource pool = t.pool()) {
      String server;
      try (Connection c = pool.getConnection()) {
        server = c.getMetaData().getDatabaseProductName() + " " + c.getMetaData().getDatabaseProductVersion();
        c.rollback();
      } catch (SQLException e) {
        throw unreachable(t, e);
      }
      Flyway flyway = flyway(pool);
      int current = currentVersion(flyway, t);
      String schema = current == 0 ? "no schema yet (created at first start)"
          : current < VERSION ? "schema version " + current + " (migrated to " + VERSION + " at next start)"
          : "schema version " + current + " (current)";
      return "metadata: " + server + " at " + t.described() + ", " + schema;
    } catch (FlywayException e) {
      throw new IOException("metadata database " + t.described() + ": " + oneLine(e.getMessage()));
    }
  }

  /** The URL without its password, for logs and errors. */
  public static String redact(String url) {
    try {
      return Target.parse(url).described();
    } catch (RuntimeException e) {
      return "(invalid metadata URL)";
    }
  }

  private static void migrate(HikariDataSource pool, Target t) throws IOException {
    try {
      Flyway flyway = flyway(pool);
      currentVersion(flyway, t); // refuses a newer schema before touching anything
      flyway.migrate();
    } catch (FlywayException e) {
      Throwable cause = e;
      while (cause.getCause() != null && !(cause instanceof SQLException)) cause = cause.getCause();
      if (cause instanceof SQLException s && unavailable(s)) throw unreachable(t, s);
      throw new IOException("metadata database " + t.described() + ": migration failed: " + oneLine(e.getMessage()));
    }
  }

  private static Flyway flyway(HikariDataSource pool) {
    return Flyway.configure(PostgresMetadataStore.class.getClassLoader()).dataSource(pool)
        .locations("classpath:db/postgresql").table(HISTORY_TABLE).load();
  }

  /** The applied schema version (0 for none); throws when it is newer than {@link #VERSION}. */
  private static int currentVersion(Flyway flyway, Target t) throws IOException {
    MigrationInfo current = flyway.info().current();
    if (current == null || current.getVersion() == null) return 0;
    if (current.getVersion().compareTo(MigrationVersion.fromVersion(Integer.toString(VERSION))) > 0) {
      throw new IOException("metadata database " + t.described() + " has schema version " + current.getVersion()
          + ", newer than this server knows (" + VERSION + "): run a newer strata");
    }
    return Integer.parseInt(current.getVersion().getVersion());
  }

  @Override
  public <T> T read(SqlJob<T> job) throws IOException {
    if (closed) throw new ApiException(ErrorCode.EUNAVAILABLE, "server is shutting down");
    try (Connection c = pool.getConnection()) {
      try {
        // Inside the transaction the driver opens, not as session settings: no extra round trips, none to undo.
        try (java.sql.Statement st = c.createStatement()) {
          st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        }
        return job.run(c);
      } finally {
        Statements.forget(c);
        rollbackQuietly(c);
      }
    } catch (SQLException e) {
      throw translate(e);
    }
  }

  /**
   * Runs the write on the caller's thread (each write has a connection of its own), except an upload from LiteFS,
   * which joins the uploads waiting to be written together ({@link UploadBatches}).
   */
  @Override
  @SuppressWarnings("unchecked") // an AppendTx is a SqlJob<AppendTx.Result>
  public <T> T write(SqlJob<T> job) throws IOException {
    enter();
    try {
      if (job instanceof AppendTx upload && upload.batchable()) return (T) uploads.append(upload);
      return runWrite(job);
    } finally {
      inFlight.arriveAndDeregister();
    }
  }

  @Override
  public <T> CompletableFuture<T> submit(SqlJob<T> job) {
    CompletableFuture<T> done = new CompletableFuture<>();
    try {
      enter();
    } catch (ApiException e) {
      done.completeExceptionally(e);
      return done;
    }
    Thread.ofVirtual().name("strata-metadata-write").start(() -> {
      try {
        done.complete(runWrite(job));
      } catch (Throwable t) {
        done.completeExceptionally(t);
      } finally {
        inFlight.arriveAndDeregister();
      }
    });
    return done;
  }

  /** Counts a write in flight, so that {@link #close} waits for it; refused once the store is closing. */
  private void enter() {
    if (closed || inFlight.register() < 0) throw new ApiException(ErrorCode.EUNAVAILABLE, "server is shutting down");
  }

  /** Runs a write transaction, again after a serialization failure or deadlock (nothing of it was committed). */
  private <T> T runWrite(SqlJob<T> job) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = pool.getConnection()) {
        try {
          T result = job.run(c);
          c.commit();
          commits.incrementAndGet();
          return result;
        } catch (SQLException | IOException | RuntimeException | Error e) {
          rollbackQuietly(c);
          throw e;
        } finally {
          Statements.forget(c);
        }
      } catch (SQLException e) {
        if (attempt < ATTEMPTS && retryable(e)) {
          sleepQuietly(ThreadLocalRandom.current().nextLong(1, 10L << attempt));
          continue;
        }
        throw translate(e);
      }
    }
  }

  @Override
  public long commits() {
    return commits.get();
  }

  @Override
  public String describe() {
    return described;
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    try {
      inFlight.awaitAdvanceInterruptibly(inFlight.arriveAndDeregister(), 30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.TimeoutException e) {
      // give up waiting; the pool's close aborts what is left, and PostgreSQL rolls it back
    }
    uploads.close();
    pool.close();
  }

  // --- errors ---------------------------------------------------------------------------------------------------

  /** Serialization failure or deadlock: PostgreSQL rolled the transaction back, and running it again is right. */
  private static boolean retryable(SQLException e) {
    String state = e.getSQLState();
    return "40001".equals(state) || "40P01".equals(state);
  }

  /** The server cannot be reached or is shutting down: the request may succeed later. */
  private static boolean unavailable(SQLException e) {
    if (e instanceof SQLTransientConnectionException) return true; // the pool's wait for a connection timed out
    String state = e.getSQLState();
    return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
        || state.equals("57P03") || state.equals("53300"));
  }

  /** A failed statement as the caller sees it: 503 {@code EUNAVAILABLE} when PostgreSQL cannot be reached. */
  private static IOException translate(SQLException e) {
    if (unavailable(e)) {
      throw new ApiException(ErrorCode.EUNAVAILABLE, "metadata database unavailable: " + oneLine(e.getMessage()));
    }
    return new IOException("metadata: " + oneLine(e.getMessage()), e);
  }

  private static IOException unreachable(Target t, SQLException e) {
    return new IOException("metadata database " + t.described() + " unreachable: " + oneLine(e.getMessage()));
  }

  private static String oneLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).strip();
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; the pool discards it
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // --- the URL --------------------------------------------------------------------------------------------------

  /**
   * A {@code postgres://} (or {@code postgresql://}) URL taken apart: credentials go to the pool, never into logs;
   * {@code pool=N} sizes the pool; every other query parameter ({@code sslmode}, …) goes to the JDBC driver.
   */
  record Target(String host, int port, String database, String user, String password, int poolSize,
      Map<String, String> params) {

    static Target parse(String url) {
      URI u;
      try {
        u = new URI(url);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("invalid metadata URL (want postgres://user@host:5432/database)");
      }
      if (!"postgres".equals(u.getScheme()) && !"postgresql".equals(u.getScheme())) {
        throw new IllegalArgumentException("metadata URL must start with postgres:// (got "
            + (u.getScheme() == null ? "no scheme" : u.getScheme() + "://") + ")");
      }
      if (u.getHost() == null) throw new IllegalArgumentException("metadata URL has no host");
      String path = u.getRawPath() == null ? "" : u.getRawPath().replaceFirst("^/", "");
      if (path.isEmpty()) throw new IllegalArgumentException("metadata URL names no database: postgres://host/DATABASE");
      String user = null, password = null;
      if (u.getRawUserInfo() != null) {
        String[] parts = u.getRawUserInfo().split(":", 2);
        user = decode(parts[0]);
        if (parts.length > 1) password = decode(parts[1]);
      }
      if (password == null && System.getenv("PGPASSWORD") != null) password = System.getenv("PGPASSWORD");
      int poolSize = 24;
      Map<String, String> params = new LinkedHashMap<>();
      if (u.getRawQuery() != null) {
        for (String kv : u.getRawQuery().split("&")) {
          if (kv.isEmpty()) continue;
          String[] p = kv.split("=", 2);
          String k = decode(p[0]), v = p.length > 1 ? decode(p[1]) : "";
          if (k.equals("pool")) {
            try {
              poolSize = Integer.parseInt(v);
            } catch (NumberFormatException e) {
              poolSize = -1;
            }
            if (poolSize < 2 || poolSize > 1000) {
              throw new IllegalArgumentException("metadata URL: pool must be a number from 2 to 1000");
            }
          } else {
            params.put(k, v);
          }
        }
      }
      return new Target(u.getHost(), u.getPort() < 0 ? 5432 : u.getPort(), decode(path), user, password, poolSize,
          params);
    }

    /** The URL without the password, for logs. */
    String described() {
      return "postgres://" + (user == null ? "" : user + "@") + host + ":" + port + "/" + database;
    }

    /** A pool of connections; throws when the first one cannot be made. */
    HikariDataSource pool() throws IOException {
      HikariConfig cfg = new HikariConfig();
      StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(host.contains(":") ? "[" + host + "]" : host)
          .append(':').append(port).append('/').append(java.net.URLEncoder.encode(database, StandardCharsets.UTF_8));
      cfg.setJdbcUrl(jdbc.toString());
      if (user != null) cfg.setUsername(user);
      if (password != null) cfg.setPassword(password);
      cfg.setPoolName("strata-metadata");
      cfg.setMaximumPoolSize(poolSize);
      cfg.setMinimumIdle(Math.min(4, poolSize));
      cfg.setAutoCommit(false);
      // An upload waits at most this long for a connection before it is answered 503 (LiteFS retries).
      cfg.setConnectionTimeout(5_000);
      cfg.setValidationTimeout(2_000);
      cfg.setInitializationFailTimeout(5_000);
      cfg.addDataSourceProperty("ApplicationName", "strata");
      cfg.addDataSourceProperty("tcpKeepAlive", "true");
      cfg.addDataSourceProperty("connectTimeout", "5");
      // Snapshots stream their pages through a cursor rather than one result held in memory.
      cfg.addDataSourceProperty("defaultRowFetchSize", "256");
      // Generic plans only: the statements are keyed lookups, for which a plan made for the values at hand is no
      // better, and PostgreSQL would otherwise plan some of them again at every run (a plan for an array of known
      // length looks cheaper than the generic one), which costs more than running them. Sent at connection start.
      String options = "-c plan_cache_mode=force_generic_plan";
      if (params.containsKey("options")) options += " " + params.get("options");
      for (Map.Entry<String, String> e : params.entrySet()) cfg.addDataSourceProperty(e.getKey(), e.getValue());
      cfg.addDataSourceProperty("options", options);
      try {
        return new HikariDataSource(cfg);
      } catch (RuntimeException e) { // Hikari's PoolInitializationException, wrapping the driver's error
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        throw new IOException("metadata database " + described() + " unreachable: " + oneLine(cause.getMessage()));
      }
    }

    private static String decode(String s) {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return described();
    }
  }
}
