package dev.strata.bench.torture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The running writer (python3 writer.py write): an application that is not Strata, committing to the database
 * when told and recording each commit in the oracle. Commands are serialised: one at a time, each answered by
 * one JSON line.
 */
final class WriterProcess implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Process process;
  private final Writer in;
  private final BufferedReader out;
  private final Oracle oracle;
  private long seq;

  private WriterProcess(Process process, Oracle oracle) throws IOException {
    this.process = process;
    this.oracle = oracle;
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    JsonNode hello = readReply("start");
    seq = hello.path("seq").asLong();
  }

  /** Starts the writer on {@code db} (created when missing), appending to {@code oracle}. */
  static WriterProcess start(WriterScript script, Path db, Oracle oracle, long seed, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("python3", script.path().toString(), "write", db.toString(),
        oracle.file().toString(), Long.toString(seed))
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new WriterProcess(pb.start(), oracle);
  }

  /** Sends one command and returns its reply; a writer-side failure is an IOException naming it. */
  synchronized JsonNode command(String line) throws IOException {
    in.write(line + "\n");
    in.flush();
    JsonNode reply = readReply(line);
    if (reply.has("seq")) seq = reply.get("seq").asLong();
    return reply;
  }

  private JsonNode readReply(String command) throws IOException {
    String line = out.readLine();
    if (line == null) {
      throw new IOException("writer exited during \"" + command + "\" (exit " + exitCode() + "; see writer.log)");
    }
    JsonNode reply = JSON.readTree(line);
    if (!reply.path("ok").asBoolean()) {
      throw new IOException("writer failed \"" + command + "\": " + reply.path("error").asText());
    }
    return reply;
  }

  private String exitCode() {
    try {
      return process.waitFor(5, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  /** Commits {@code n} transactions of seeded shapes (plus the writer's own scheduled checkpoints). */
  long commit(int n) throws IOException {
    command("tx " + n);
    return seq;
  }

  /** The writer's own {@code PRAGMA wal_checkpoint(mode)}; returns its reply (busy, log, checkpointed). */
  JsonNode checkpoint(String mode) throws IOException {
    return command("checkpoint " + mode);
  }

  /** Puts another file in the database's place (see writer.py replace). */
  JsonNode replaceDatabase() throws IOException {
    return command("replace");
  }

  /** Counters: commits by kind, checkpoints by mode, slowest commit. */
  JsonNode stats() throws IOException {
    return command("stats");
  }

  /** The newest commit's sequence number. */
  synchronized long seq() {
    return seq;
  }

  /** The oracle this writer appends to. */
  Oracle oracle() {
    return oracle;
  }

  @Override
  public void close() throws IOException {
    try {
      command("quit");
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
