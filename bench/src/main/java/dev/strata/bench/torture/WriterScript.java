package dev.strata.bench.torture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * writer.py, copied out of the jar into the work directory: the writer (see {@link WriterProcess}) and the digest
 * of a restored file, computed by the same code that computed the oracle.
 */
final class WriterScript {
  /** What the digest mode reports for one database file. */
  record DbDigest(String integrity, Long seq, String digest, int pageSize, long pageCount) {
    boolean intact() {
      return "ok".equals(integrity);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path script;
  private final Path logDir;
  private int runs;

  private WriterScript(Path script, Path logDir) {
    this.script = script;
    this.logDir = logDir;
  }

  /** Copies writer.py into {@code dir}. */
  static WriterScript install(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path script = dir.resolve("writer.py");
    try (InputStream in = WriterScript.class.getResourceAsStream("writer.py")) {
      if (in == null) throw new IOException("writer.py missing from the classpath");
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    return new WriterScript(script, dir.resolve("logs"));
  }

  /** The script's path. */
  Path path() {
    return script;
  }

  /** Integrity check ({@code quick} or {@code full}) and content digest of a file no process is writing. */
  DbDigest digest(Path db, String check) throws IOException {
    CommandRun run = CommandRun.run(List.of("python3", script.toString(), "digest", db.toString(), check),
        Duration.ofMinutes(5), logDir.resolve("digest-" + (++runs)));
    if (run.exit() != 0 || run.stdout().isBlank()) {
      throw new IOException("writer.py digest " + db + " failed (exit " + run.exit() + "): " + run.lastLine());
    }
    JsonNode n = JSON.readTree(run.stdout());
    return new DbDigest(n.path("integrity").asText(), n.hasNonNull("seq") ? n.get("seq").asLong() : null,
        n.path("digest").asText(null), n.path("page_size").asInt(), n.path("page_count").asLong());
  }
}
