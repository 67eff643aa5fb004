package dev.strata.replica.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests, started from the machine's own binaries (Debian's {@code postgresql} package)
 * in a fresh temporary directory on a free loopback port, with {@code fsync} on: what is tested is durability, so
 * the server must be one that can be stopped, killed with SIGKILL and restarted on the same port and data.
 *
 * <p>No JDBC driver is needed: the cluster is made and driven with its own tools ({@code initdb}, {@code postgres},
 * {@code pg_ctl}, {@code pg_isready}, {@code createdb}, {@code psql}), so every user of this test-jar can start one.
 * Users with a driver connect with {@link #jdbcUrl()}; every other user has {@link #url()} or {@link #psql}.
 *
 * <p>The binaries are those in {@code $STRATA_TEST_PG_BIN} if set, else the newest {@code /usr/lib/postgresql/N/bin},
 * else {@code pg_config --bindir}. {@code postgres} refuses to run as root, so when the JVM is root the server tools
 * run as the {@code postgres} OS user (which the Debian package creates) through {@code runuser}; the client tools
 * run as the JVM's user. Authentication is {@code trust} for user {@code postgres}, on 127.0.0.1 only.
 *
 * <p>Cleanup: {@link #close()} stops the server and deletes its directory. If the JVM dies first (System.exit,
 * a crash, SIGKILL, a surefire timeout), a watchdog process started with the server sees the end of its stdin pipe,
 * which only this JVM holds, then shuts the postmaster down (SIGQUIT, then SIGKILL), which takes its backends with
 * it, and deletes the directory. Not covered: the watchdog itself being killed together with the JVM (a SIGKILL to
 * the whole process group or cgroup); a container teardown does that, and takes the server with it anyway.
 */
public final class LocalPostgres implements AutoCloseable {
  /** The database user, also the OS user the server runs as when the JVM is root. */
  public static final String USER = "postgres";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final Pattern DB_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final Path bin;
  private final Path root;
  private final Path data;
  private final Path sockets;
  private final Path log;
  private final boolean asRoot;
  private final Process watchdog;
  private int port;
  private Process server;
  private boolean closed;

  private LocalPostgres(Path bin, Path root, boolean asRoot, Process watchdog) {
    this.bin = bin;
    this.root = root;
    this.data = root.resolve("data");
    this.sockets = root.resolve("sockets");
    this.log = root.resolve("postgres.log");
    this.asRoot = asRoot;
    this.watchdog = watchdog;
  }

  /**
   * Creates a cluster in a fresh temporary directory and starts it on a free loopback port; returns once it accepts
   * connections.
   */
  public static LocalPostgres start() throws IOException {
    Path bin = findBindir();
    boolean asRoot = isRoot();
    Path root = Files.createTempDirectory("strata-pg-");
    LocalPostgres pg;
    try {
      Files.createDirectories(root.resolve("sockets"));
      if (asRoot) {
        UserPrincipalLookupService users = root.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal owner;
        GroupPrincipal group;
        try {
          owner = users.lookupPrincipalByName(USER);
          group = users.lookupPrincipalByGroupName(USER);
        } catch (UserPrincipalNotFoundException e) {
          throw new IllegalStateException("LocalPostgres runs as root and there is no '" + USER
              + "' OS user to run the server as: apt-get install postgresql creates it");
        }
        for (Path p : List.of(root, root.resolve("sockets"))) {
          PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
          view.setOwner(owner);
          view.setGroup(group);
        }
      }
      pg = new LocalPostgres(bin, root, asRoot, startWatchdog(root));
    } catch (IOException | RuntimeException e) {
      deleteTree(root);
      throw e;
    }
    try {
      // --no-sync: the cluster's creation need not survive a crash of this machine; the server runs with fsync on.
      pg.run(pg.asServerUser(List.of(pg.tool("initdb"), "-D", pg.data.toString(), "--auth=trust", "-U", USER,
          "--no-sync", "--encoding=UTF8", "--no-locale")), Duration.ofSeconds(120));
      // A port picked free can be taken before the server binds it (other test JVMs run here): try a few.
      for (int attempt = 1; ; attempt++) {
        pg.port = freePort();
        try {
          pg.launch();
          break;
        } catch (IllegalStateException e) {
          if (attempt == 3 || !pg.logTail().contains("could not bind")) throw e;
        }
      }
      return pg;
    } catch (IOException | RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  /** The loopback port the server listens on; the same across {@link #restart()}. */
  public int port() {
    return port;
  }

  /** {@code postgres://postgres@127.0.0.1:PORT/postgres}. */
  public String url() {
    return url("postgres");
  }

  /** {@code jdbc:postgresql://127.0.0.1:PORT/postgres?user=postgres}, for users with the JDBC driver. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=" + USER;
  }

  /** The directory of the PostgreSQL binaries in use ({@code psql}, {@code pg_dump}… for tests to run). */
  public Path bindir() {
    return bin;
  }

  /** The cluster's data directory (deleted by {@link #close()}). */
  public Path dataDirectory() {
    return data;
  }

  /** The server's log, appended to by every start (crash recovery, errors, shutdowns). */
  public Path logFile() {
    return log;
  }

  /**
   * Creates database {@code name} (lower-case letters, digits and {@code _}; one per test keeps tests apart) and
   * returns its URL, {@code postgres://postgres@127.0.0.1:PORT/name}.
   */
  public String createDatabase(String name) throws IOException {
    if (!DB_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("database name must match " + DB_NAME + ": " + name);
    }
    run(List.of(tool("createdb"), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER, name),
        Duration.ofSeconds(60));
    return url(name);
  }

  /**
   * Runs {@code sql} in {@code database} with {@code psql} (stopping at the first error) and returns its output:
   * rows unaligned, columns separated by {@code |}, without headers.
   */
  public String psql(String database, String sql) throws IOException {
    return run(List.of(tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
        Integer.toString(port), "-U", USER, "-d", database, "-c", sql), Duration.ofSeconds(60));
  }

  /** Whether the postmaster is running (started and neither stopped nor killed since). */
  public synchronized boolean isRunning() {
    return server != null && server.isAlive();
  }

  /**
   * Kills the postmaster and every backend with SIGKILL at once, as a crash would (no shutdown checkpoint; the
   * next start runs crash recovery), and returns once they are gone and the port is free.
   */
  public synchronized void kill9() throws IOException {
    if (server == null) return;
    // Under runuser the postmaster is a grandchild, and must be killed itself: runuser cannot forward a SIGKILL.
    // runuser is left alone: it reaps the postmaster, whose pid must be gone, not a zombie, for the next start to
    // accept its stale postmaster.pid.
    List<ProcessHandle> all = new ArrayList<>();
    postmaster().ifPresent(pm -> {
      all.add(pm);
      pm.descendants().forEach(all::add);
    });
    // The postmaster first, so that it cannot see a backend die and start a crash cycle of its own.
    for (ProcessHandle p : all) p.destroyForcibly();
    awaitExit(server);
    awaitGone(all, "killed postgres processes");
    server = null;
    awaitPortFree();
  }

  /** Stops the server with a fast shutdown (clients disconnected, a shutdown checkpoint written). */
  public synchronized void stop() throws IOException {
    if (server == null) return;
    if (server.isAlive()) {
      List<ProcessHandle> all = new ArrayList<>(server.toHandle().descendants().toList());
      all.add(server.toHandle());
      run(asServerUser(List.of(tool("pg_ctl"), "stop", "-D", data.toString(), "-m", "fast", "-w", "-t",
          Long.toString(STOP_TIMEOUT.toSeconds()))), STOP_TIMEOUT.plusSeconds(10));
      awaitExit(server);
      awaitGone(all, "stopped postgres processes");
    }
    server = null;
    awaitPortFree();
  }

  /**
   * Starts the server again on the same port and data directory, stopping it first (fast) if it runs; after
   * {@link #kill9()} this is crash recovery. Returns once it accepts connections.
   */
  public synchronized void restart() throws IOException {
    if (closed) throw new IllegalStateException("LocalPostgres is closed");
    stop();
    launch();
  }

  /** Stops the server (fast; SIGKILL if that fails), ends the watchdog and deletes the directory. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) return;
    closed = true;
    try {
      try {
        stop();
      } catch (IOException | RuntimeException e) {
        kill9();
      }
    } finally {
      try {
        deleteTree(root);
      } finally {
        // The watchdog's stdin reaches its end: it finds no postmaster left and nothing to delete, and exits.
        watchdog.getOutputStream().close();
        try {
          if (!watchdog.waitFor(10, TimeUnit.SECONDS)) watchdog.destroyForcibly();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          watchdog.destroyForcibly();
        }
      }
    }
  }

  /** Starts the postmaster on {@link #port} and waits until it accepts connections. */
  private void launch() throws IOException {
    List<String> command = new ArrayList<>(List.of(tool("postgres"), "-D", data.toString(),
        "-p", Integer.toString(port), "-k", sockets.toString(),
        "-c", "listen_addresses=127.0.0.1",
        "-c", "fsync=on",
        "-c", "max_connections=300",
        "-c", "shared_buffers=64MB",
        // No parallel query workers: test machines have few cores, shared with other test JVMs.
        "-c", "max_parallel_workers_per_gather=0"));
    // More settings for experiments (pg_stat_statements, statement logs): space-separated name=value pairs.
    String extra = System.getenv("STRATA_POSTGRES_SETTINGS");
    if (extra != null && !extra.isBlank()) {
      for (String setting : extra.trim().split("\\s+")) command.addAll(List.of("-c", setting));
    }
    ProcessBuilder pb = processBuilder(asServerUser(command));
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    server = pb.start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (true) {
      if (!server.isAlive()) {
        server = null;
        throw new IllegalStateException("postgres on port " + port + " exited at start; log tail:\n" + logTail());
      }
      Process ready = processBuilder(List.of(tool("pg_isready"), "-q", "-h", "127.0.0.1", "-p",
          Integer.toString(port), "-U", USER, "-d", "postgres", "-t", "2"))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (await(ready, Duration.ofSeconds(10)) == 0) return;
      if (System.nanoTime() > deadline) {
        String tail = logTail();
        kill9();
        throw new IllegalStateException("postgres on port " + port + " did not accept connections within "
            + START_TIMEOUT.toSeconds() + " s; log tail:\n" + tail);
      }
      sleep(100);
    }
  }

  private String url(String database) {
    return "postgres://" + USER + "@127.0.0.1:" + port + "/" + database;
  }

  private String tool(String name) {
    return bin.resolve(name).toString();
  }

  /** The command run as the postgres OS user when this JVM is root (initdb, postgres and pg_ctl refuse root). */
  private List<String> asServerUser(List<String> command) {
    if (!asRoot) return command;
    List<String> c = new ArrayList<>(List.of("runuser", "-u", USER, "--"));
    c.addAll(command);
    return c;
  }

  /**
   * A process in the cluster's directory (readable by the postgres user, unlike root's home), with a plain C
   * locale and no libpq variables inherited from the caller's environment (PGHOST, PGDATA, PGSSLMODE…).
   */
  private ProcessBuilder processBuilder(List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("LC_") || k.equals("LANG"));
    pb.environment().put("LC_ALL", "C");
    return pb;
  }

  /** Runs a command to its end; returns its output, or fails with it. */
  private String run(List<String> command, Duration timeout) throws IOException {
    Path out = Files.createTempFile(root, "cmd-", ".out");
    try {
      Process p = processBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.to(out.toFile())).start();
      int code = await(p, timeout);
      String output = Files.readString(out, StandardCharsets.UTF_8);
      if (code != 0) {
        throw new IOException(String.join(" ", command) + " failed"
            + (code == Integer.MIN_VALUE ? " (timed out after " + timeout.toSeconds() + " s)" : " (exit " + code + ")")
            + ": " + output.strip());
      }
      return output;
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The process's exit code, or {@link Integer#MIN_VALUE} after killing it on timeout. */
  private static int await(Process p, Duration timeout) {
    try {
      if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    return Integer.MIN_VALUE;
  }

  /** The postmaster: the server process itself, or runuser's child when run as the postgres user. */
  private Optional<ProcessHandle> postmaster() {
    if (!asRoot) return Optional.of(server.toHandle());
    return server.children().filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(true))
        .findFirst();
  }

  /** Waits for the process this JVM started (runuser or postgres) to exit, having reaped the postmaster. */
  private static void awaitExit(Process p) {
    if (await(p, STOP_TIMEOUT) == Integer.MIN_VALUE) {
      throw new IllegalStateException("postgres (pid " + p.pid() + ") still running after " + STOP_TIMEOUT.toSeconds()
          + " s");
    }
  }

  /**
   * Waits until each process has exited. A killed backend whose postmaster is gone is re-parented to PID 1, which in
   * some containers never reaps it: a zombie counts as gone (it holds no memory, files or sockets).
   */
  private static void awaitGone(List<ProcessHandle> processes, String what) {
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    for (ProcessHandle p : processes) {
      while (!isGone(p)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(what + " still running after " + STOP_TIMEOUT.toSeconds() + " s: pid "
              + p.pid());
        }
        sleep(20);
      }
    }
  }

  /** Whether {@code p} has exited (a zombie has). */
  static boolean isGone(ProcessHandle p) {
    if (!p.isAlive()) return true;
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      // "pid (comm) S …": the state follows the last ')' (comm may itself contain parentheses).
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException | RuntimeException e) {
      return !p.isAlive();
    }
  }

  private void awaitPortFree() {
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    while (true) {
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true); // as postgres binds: connections in TIME_WAIT do not hold the port
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("port " + port + " still in use " + STOP_TIMEOUT.toSeconds()
              + " s after postgres stopped");
        }
        sleep(50);
      }
    }
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /**
   * A watchdog outliving the JVM: a shell blocked reading its stdin, a pipe only this JVM holds, which reaches its
   * end when the JVM exits or dies however it does. It then stops the postmaster found in {@code postmaster.pid}
   * (SIGQUIT: immediate shutdown, the backends go with it; SIGKILL after 10 s) and deletes the directory. The
   * directory is an argument, never part of the script. It ignores the signals a terminal or surefire sends the JVM
   * so that it lives to clean up.
   */
  private static Process startWatchdog(Path root) throws IOException {
    String script = """
        trap '' INT TERM HUP
        while read -r _; do :; done
        pidfile="$1/data/postmaster.pid"
        if [ -f "$pidfile" ]; then
          read -r pid < "$pidfile"
          if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
            kill -QUIT "$pid" 2>/dev/null
            i=0
            while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            kill -KILL "$pid" 2>/dev/null
          fi
        fi
        rm -rf -- "$1"
        """;
    return new ProcessBuilder("/bin/sh", "-c", script, "strata-pg-watchdog", root.toString())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** {@code $STRATA_TEST_PG_BIN}, else the newest {@code /usr/lib/postgresql/N/bin}, else {@code pg_config --bindir}. */
  static Path findBindir() throws IOException {
    String env = System.getenv("STRATA_TEST_PG_BIN");
    if (env != null && !env.isBlank()) {
      Path bin = Path.of(env);
      if (!Files.isExecutable(bin.resolve("postgres"))) {
        throw new IllegalStateException("STRATA_TEST_PG_BIN=" + env + " has no executable postgres");
      }
      return bin;
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Optional<Path> newest = versions
            .filter(v -> v.getFileName().toString().matches("\\d+(\\.\\d+)?"))
            .filter(v -> Files.isExecutable(v.resolve("bin/postgres")))
            .max(Comparator.comparingDouble(v -> Double.parseDouble(v.getFileName().toString())));
        if (newest.isPresent()) return newest.get().resolve("bin");
      }
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (dir.isEmpty()) continue;
      Path pgConfig = Path.of(dir, "pg_config");
      if (!Files.isExecutable(pgConfig)) continue;
      try {
        Process p = new ProcessBuilder(pgConfig.toString(), "--bindir").redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (await(p, Duration.ofSeconds(10)) == 0 && Files.isExecutable(Path.of(out, "postgres"))) return Path.of(out);
      } catch (IOException e) {
        // an unusable pg_config is the same as none
      }
      break;
    }
    throw new IllegalStateException("no PostgreSQL server binaries (no /usr/lib/postgresql/*/bin/postgres, no "
        + "pg_config --bindir with postgres): apt-get install postgresql, or set STRATA_TEST_PG_BIN");
  }

  private static boolean isRoot() throws IOException {
    // /proc/self is owned by the JVM's effective user.
    return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
