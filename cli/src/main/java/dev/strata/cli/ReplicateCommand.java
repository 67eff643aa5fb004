package dev.strata.cli;

import ch.qos.logback.classic.Level;
import dev.strata.agent.Agent;
import dev.strata.agent.DatabaseSpec;
import dev.strata.agent.ReplicaSpec;
import dev.strata.agent.config.AgentConfig;
import dev.strata.agent.config.ConfigFile;
import dev.strata.agent.config.Durations;
import dev.strata.agent.control.ControlServer;
import dev.strata.agent.control.HttpControl;
import dev.strata.agent.exec.ChildProcess;
import dev.strata.agent.exec.Signals;
import dev.strata.agent.metrics.AgentMetrics;
import dev.strata.agent.upload.CompactionUpkeep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code strata replicate}: captures every commit of SQLite databases and streams it to replicas, until SIGINT or
 * SIGTERM (then a final sync, exit 0) or until the {@code -exec} child exits (then a final sync, and the child's
 * exit code).
 */
@Command(name = "replicate", mixinStandardHelpOptions = true,
    description = {"Replicate SQLite databases continuously: every commit, captured from the WAL, to each replica.",
        "With DB and URLs, replicates one database; otherwise reads the config file (-config, $STRATA_CONFIG or "
            + "/etc/strata.yml, in Litestream's litestream.yml format)."})
final class ReplicateCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ReplicateCommand.class);
  static final Path DEFAULT_CONFIG = Path.of("/etc/strata.yml");

  @Parameters(arity = "0..*", paramLabel = "DB URL", description = "Database file, then one or more replica URLs "
      + "(a path, file://, s3://bucket/path?…, sftp://user@host/path?…).")
  List<String> args = new ArrayList<>();

  @Option(names = {"-config", "--config"}, paramLabel = "PATH", description = "Config file.")
  Path config;

  @Option(names = {"-no-expand-env", "--no-expand-env"}, description = "Do not expand $VAR in the config file.")
  boolean noExpandEnv;

  @Option(names = {"-exec", "--exec"}, paramLabel = "CMD",
      description = "Run CMD as a child process; signals are forwarded, and strata exits with its code after a "
          + "final sync.")
  String exec;

  @Option(names = {"-sync-interval", "--sync-interval"}, paramLabel = "DURATION",
      description = "How often to capture the WAL (with DB and URLs; default 1s).")
  String syncInterval;

  @Option(names = {"-addr", "--addr"}, paramLabel = "HOST:PORT",
      description = "Serve Prometheus metrics on /metrics, and POST /sync and GET /status (with DB and URLs; "
          + "otherwise the config's addr).")
  String addr;

  @Option(names = {"-meta-path", "--meta-path"}, paramLabel = "DIR",
      description = "Local meta directory (with DB and URLs; default .<db>-strata next to the database).")
  Path metaPath;

  @Option(names = {"-switch-to-wal", "--switch-to-wal"},
      description = "Switch a database that is not in WAL mode to WAL instead of refusing it (with DB and URLs).")
  boolean switchToWal;

  @Override
  public Integer call() throws Exception {
    AgentConfig cfg = configuration();
    if (cfg.logLevel() != null) setLogLevel(cfg.logLevel());
    Agent.validate(cfg.databases(), cfg.directories());
    LitestreamCli.refuseLitestreamTargets(cfg);
    String command = exec != null ? exec : cfg.exec();
    String metricsAddr = addr != null ? addr : cfg.addr();

    CountDownLatch done = new CountDownLatch(1);
    AtomicInteger signals = new AtomicInteger();
    AtomicInteger exitCode = new AtomicInteger();
    ChildProcess[] child = new ChildProcess[1];
    ControlServer[] control = new ControlServer[1];
    Signals.onTerminate(sig -> {
      if (signals.incrementAndGet() > 1) {
        log.warn("second signal: exiting without waiting for the replicas (local state is safe)");
        Runtime.getRuntime().halt(1);
      }
      if (child[0] != null && child[0].isAlive()) child[0].signal(sig); // its exit ends the run
      else done.countDown();
    });

    try (Agent agent = new Agent(cfg.databases(), cfg.directories(), new CompactionUpkeep());
        AgentMetrics metrics = new AgentMetrics(agent::monitors)) {
      if (metricsAddr != null && !metricsAddr.isBlank()) metrics.serve(metricsAddr, new HttpControl(agent::monitors));
      agent.start();
      control[0] = ControlServer.start(agent.monitors()); // strata sync / status
      if (command != null && !command.isBlank()) {
        child[0] = ChildProcess.start(command);
        Thread.ofPlatform().name("strata-exec").daemon().start(() -> {
          try {
            exitCode.set(child[0].waitFor());
          } catch (InterruptedException e) {
            exitCode.set(1);
          }
          done.countDown();
        });
      }
      done.await();
      log.info("stopping: final sync");
      agent.stop();
    } finally {
      if (control[0] != null) control[0].close();
    }
    return exitCode.get();
  }

  /** The databases to replicate: from DB and URLs, or from the config file. */
  private AgentConfig configuration() throws Exception {
    if (!args.isEmpty()) {
      if (config != null) throw new IllegalArgumentException("give either DB and replica URLs or -config, not both");
      if (args.size() < 2) throw new IllegalArgumentException("replicate needs at least one replica URL after " + args.getFirst());
      if (args.getFirst().matches("^\\w+://.*")) {
        throw new IllegalArgumentException("the first argument must be the database file, not a URL: " + args.getFirst());
      }
      Path db = Path.of(args.getFirst()).toAbsolutePath().normalize();
      List<ReplicaSpec> replicas = new ArrayList<>();
      for (int i = 1; i < args.size(); i++) {
        String url = args.get(i);
        String type = url.contains("://") ? url.substring(0, url.indexOf("://")) : "file";
        replicas.add(new ReplicaSpec(args.size() > 2 ? type + "-" + i : type, url));
      }
      DatabaseSpec spec = DatabaseSpec.of(db, replicas);
      if (syncInterval != null) {
        Duration d = Durations.parse(syncInterval);
        if (d.isZero() || d.isNegative()) throw new IllegalArgumentException("-sync-interval must be positive");
        spec = spec.withSyncInterval(d);
      }
      if (metaPath != null) {
        spec = new DatabaseSpec(spec.name(), spec.path(), metaPath.toAbsolutePath(), spec.replicas(),
            spec.syncInterval(), spec.capture(), spec.levels(), spec.retryMax(), spec.shutdownTimeout());
      }
      if (switchToWal) spec = spec.withCapture(spec.capture().withSwitchToWal(true));
      return new AgentConfig(List.of(spec), List.of(), null, null, null);
    }
    if (syncInterval != null || metaPath != null || switchToWal) {
      throw new IllegalArgumentException("-sync-interval, -meta-path and -switch-to-wal apply to DB and URLs; "
          + "set them in the config file instead");
    }
    Path file = config;
    if (file == null && System.getenv("STRATA_CONFIG") != null && !System.getenv("STRATA_CONFIG").isBlank()) {
      file = Path.of(System.getenv("STRATA_CONFIG"));
    }
    if (file == null) file = DEFAULT_CONFIG;
    return ConfigFile.load(file, !noExpandEnv);
  }

  private static void setLogLevel(String level) {
    Level l = Level.toLevel(level, null);
    if (l == null) throw new IllegalArgumentException("logging.level: unknown level \"" + level + "\"");
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(l);
  }
}
