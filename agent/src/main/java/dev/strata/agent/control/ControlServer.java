package dev.strata.agent.control;

import dev.strata.agent.DatabaseMonitor;
import dev.strata.agent.upload.ReplicaUploader;
import dev.strata.ltx.Txid;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control endpoint of {@code strata replicate}: a Unix domain socket per database, {@code .<db>-strata.sock}
 * beside its meta directory (so that {@code strata sync DB} finds it from the database path alone). One request
 * line, answered with lines ending in {@code end}:
 *
 * <ul>
 *   <li>{@code sync} — a sync pass now; answers {@code ok};
 *   <li>{@code wait <replicas> <timeout-ms> <force 0|1>} — waits until every commit made before the request is
 *       durable on that many replicas (0: all), forcing a pass first only with force; answers {@code ok <txid>}
 *       or {@code timeout <why>};
 *   <li>{@code status} — {@code db <txid>} then one {@code replica <name> <txid> <lag in TXIDs> <errors>
 *       <last upload ms since epoch>} per replica.
 * </ul>
 *
 * The socket file is created with the process's umask and only reachable by who may open the directory.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

  private final List<ServerSocketChannel> servers = new ArrayList<>();
  private final List<Path> paths = new ArrayList<>();

  /** The default socket of a database: {@code .<file>-strata.sock} beside its meta directory. */
  public static Path socketFor(Path db) {
    Path abs = db.toAbsolutePath().normalize();
    return abs.resolveSibling("." + abs.getFileName() + "-strata.sock");
  }

  /** Opens one socket per database and serves it on virtual threads. */
  public static ControlServer start(List<DatabaseMonitor> monitors) throws IOException {
    ControlServer s = new ControlServer();
    try {
      for (DatabaseMonitor m : monitors) s.serve(m, socketFor(m.spec().path()));
    } catch (IOException e) {
      s.close();
      throw e;
    }
    return s;
  }

  private void serve(DatabaseMonitor m, Path path) throws IOException {
    Files.deleteIfExists(path); // left by a process that was killed: the meta directory lock says none runs now
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    servers.add(server);
    paths.add(path);
    Thread.ofVirtual().name("strata-control-" + m.spec().name()).start(() -> {
      while (server.isOpen()) {
        try {
          SocketChannel c = server.accept();
          Thread.ofVirtual().start(() -> handle(m, c));
        } catch (IOException e) {
          if (server.isOpen()) log.warn("control socket {}: {}", path, e.getMessage());
          return;
        }
      }
    });
  }

  private static void handle(DatabaseMonitor m, SocketChannel c) {
    try (c; BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
        StandardCharsets.UTF_8)); OutputStream out = Channels.newOutputStream(c)) {
      String line = in.readLine();
      String reply;
      try {
        reply = answer(m, line == null ? "" : line.strip());
      } catch (IllegalArgumentException e) {
        reply = "error " + e.getMessage() + "\n";
      }
      out.write((reply + "end\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      log.debug("control connection: {}", e.getMessage());
    }
  }

  public static String answer(DatabaseMonitor m, String request) {
    String[] f = request.split(" ");
    switch (f[0]) {
      case "sync" -> {
        m.requestSync();
        return "ok\n";
      }
      case "wait" -> {
        if (f.length != 4) throw new IllegalArgumentException("usage: wait <replicas> <timeout-ms> <force 0|1>");
        int replicas = Integer.parseInt(f[1]);
        Duration timeout = Duration.ofMillis(Long.parseLong(f[2]));
        if (f[3].equals("1")) m.requestSync();
        try {
          return "ok " + Txid.format(m.awaitDurable(replicas, timeout)) + "\n";
        } catch (TimeoutException e) {
          return "timeout " + e.getMessage() + "\n";
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return "error interrupted\n";
        }
      }
      case "status" -> {
        long txid = m.capture().txid();
        StringBuilder s = new StringBuilder("db " + Txid.format(txid) + "\n");
        for (ReplicaUploader u : m.uploaders()) {
          long r = u.txid();
          s.append("replica ").append(u.name()).append(' ').append(r < 0 ? "unknown" : Txid.format(r)).append(' ')
              .append(r < 0 ? "unknown" : Long.toString(Math.max(0, txid - r))).append(' ')
              .append(u.stats().errors()).append(' ').append(u.stats().lastSuccessMillis()).append('\n');
        }
        m.lastDrills().forEach((r, d) -> s.append("drill ").append(r).append(' ').append(d.ok() ? "ok" : "FAILED")
            .append(' ').append(d.finishedMillis()).append(' ').append(Txid.format(d.txid()))
            .append(d.error() != null ? " " + d.error().replace('\n', ' ') : "").append('\n'));
        return s.toString();
      }
      default -> throw new IllegalArgumentException("unknown request: " + request);
    }
  }

  /** Closes the sockets and removes their files. */
  @Override
  public void close() {
    for (ServerSocketChannel s : servers) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    for (Path p : paths) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // closing
      }
    }
  }

  /** Sends one request to a socket and returns the reply lines before {@code end}. */
  public static List<String> request(Path socket, String request) throws IOException {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      c.write(java.nio.ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
      BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
          StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      for (String l; (l = in.readLine()) != null && !l.equals("end"); ) lines.add(l);
      return lines;
    }
  }
}
