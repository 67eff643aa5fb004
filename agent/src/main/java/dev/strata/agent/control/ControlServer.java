package dev.strata.agent.control;

import dev.strata.agent.DatabaseMonitor;
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
 * The control endpoint of {@code strata replicate} for the CLI: a Unix domain socket per database, by default
 * {@code .<db>-strata.sock} beside its meta directory (so that {@code strata sync DB} finds it from the database
 * path alone), elsewhere or none with {@code control:} in the config. One request line, answered with lines
 * ending in {@code end}:
 *
 * <ul>
 *   <li>{@code sync} — a sync pass now; answers {@code ok};
 *   <li>{@code wait <replicas> <timeout-ms> <force 0|1>} — waits until every commit made before the request is
 *       durable on that many replicas (0: all), forcing a pass first only with force; answers {@code ok <txid>}
 *       or {@code timeout <why>};
 *   <li>{@code status} — {@code db <txid>} then one {@code replica <name> <txid> <lag in TXIDs> <errors>
 *       <last upload ms since epoch> [<last error ms since epoch> <last error>]} per replica and one
 *       {@code drill <replica> ok|FAILED <finished ms> <txid> [<error>]} per restore drill.
 * </ul>
 *
 * What the requests do is {@link DatabaseControl}'s, as for HTTP. The socket file is created with the process's
 * umask and only reachable by who may open the directory.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

  private final List<ServerSocketChannel> servers = new ArrayList<>();
  private final List<Path> paths = new ArrayList<>();

  /** Opens the socket of each database that has one ({@code control:} not off) and serves it on virtual threads. */
  public static ControlServer start(List<DatabaseMonitor> monitors) throws IOException {
    ControlServer s = new ControlServer();
    try {
      for (DatabaseMonitor m : monitors) {
        Path socket = m.spec().controlSocket();
        if (socket != null) s.serve(m, socket);
      }
    } catch (IOException e) {
      s.close();
      throw e;
    }
    return s;
  }

  private void serve(DatabaseMonitor m, Path path) throws IOException {
    ServerSocketChannel server;
    try {
      Files.createDirectories(path.toAbsolutePath().getParent()); // control: /run/strata/app.sock, say
      Files.deleteIfExists(path); // left by a process that was killed: the meta directory lock says none runs now
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(path));
    } catch (IOException e) {
      throw new IOException(m.spec().name() + ": cannot open the control socket " + path + ": "
          + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
    }
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

  /** The reply lines (before {@code end}) to one request line. */
  public static String answer(DatabaseMonitor m, String request) {
    String[] f = request.split(" ");
    return switch (f[0]) {
      case "sync" -> syncLine(m, new SyncRequest(false, 0, Duration.ZERO, false));
      case "wait" -> {
        if (f.length != 4) throw new IllegalArgumentException("usage: wait <replicas> <timeout-ms> <force 0|1>");
        int replicas = Integer.parseInt(f[1]);
        if (replicas < 0) throw new IllegalArgumentException("replicas must be 0 (all) or more");
        yield syncLine(m, new SyncRequest(true, replicas, Duration.ofMillis(Long.parseLong(f[2])), f[3].equals("1")));
      }
      case "status" -> statusLines(DatabaseControl.status(m));
      default -> throw new IllegalArgumentException("unknown request: " + request);
    };
  }

  private static String syncLine(DatabaseMonitor m, SyncRequest request) {
    try {
      DatabaseControl.Synced done = DatabaseControl.sync(m, request);
      return done.txid() < 0 ? "ok\n" : "ok " + Txid.format(done.txid()) + "\n";
    } catch (TimeoutException e) {
      return "timeout " + e.getMessage() + "\n";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "error interrupted\n";
    }
  }

  private static String statusLines(DatabaseStatus status) {
    StringBuilder s = new StringBuilder("db " + Txid.format(status.txid()) + "\n");
    for (DatabaseStatus.Replica r : status.replicas()) {
      s.append("replica ").append(r.name()).append(' ').append(r.txid() < 0 ? "unknown" : Txid.format(r.txid()))
          .append(' ').append(r.lag() < 0 ? "unknown" : Long.toString(r.lag())).append(' ').append(r.errors())
          .append(' ').append(r.lastUploadMillis());
      if (r.lastError() != null) s.append(' ').append(r.lastErrorMillis()).append(' ').append(r.lastError());
      s.append('\n');
    }
    for (DatabaseStatus.Drill d : status.drills()) {
      s.append("drill ").append(d.replica()).append(' ').append(d.ok() ? "ok" : "FAILED").append(' ')
          .append(d.finishedMillis()).append(' ').append(Txid.format(d.txid()))
          .append(d.error() != null ? " " + d.error() : "").append('\n');
    }
    return s.toString();
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
