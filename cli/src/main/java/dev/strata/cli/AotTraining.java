package dev.strata.cli;

import dev.strata.ltx.LtxEncoder;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import dev.strata.replica.file.DirectoryTree;
import dev.strata.replica.file.FileReplicaClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The training run of the launcher's AOT cache (bin/strata, JEP 483/514/515): builds a small SQLite database, backs
 * it up as a snapshot in a file replica in a temporary directory, and restores it with {@code strata restore}, so
 * that the classes and method profiles of a restore are in the cache the JVM writes at exit. Prints nothing on
 * success; exits non-zero on failure (the launcher then goes on without a cache).
 */
public final class AotTraining {
  private static final int PAGE_SIZE = 4096;

  private AotTraining() {}

  /**
   * Trains one of the caches: no argument, a restore and {@code strata serve} (the cache of every command that has
   * no cache of its own); {@code --restore}, restores alone; {@code --cli}, {@code version} and {@code --help}.
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 1 && args[0].equals("--cli")) {
      cli();
      return;
    }
    boolean restoreOnly = args.length == 1 && args[0].equals("--restore");
    Path dir = Files.createTempDirectory("strata-aot-training-");
    PrintStream out = System.out;
    try {
      Path db = dir.resolve("training.db");
      build(db);
      Path replica = dir.resolve("replica");
      snapshot(db, new FileReplicaClient(replica));
      // Several rounds, so that the hot loops (LZ4, CRC, merge, writes) are profiled as a large restore runs them.
      System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
      for (int round = 0; round < 3; round++) {
        restore(dir.resolve("restored-" + round + ".db"), replica.toString());
      }
      // An age-encrypted replica too: without the cipher's profiles, an encrypted restore decrypts its first
      // hundreds of MiB in the interpreter and C1 while C2 catches up.
      Path encrypted = dir.resolve("encrypted");
      AgeKeys.Identity identity = AgeKeys.newIdentity();
      Path key = dir.resolve("key.txt");
      Files.writeString(key, identity.fileText());
      snapshot(db, AgeReplicaClient.wrap(new FileReplicaClient(encrypted), List.of(identity.recipient()), List.of()));
      for (int round = 0; round < 2; round++) {
        restore(dir.resolve("decrypted-" + round + ".db"), encrypted.toString(), "--age-identity", key.toString());
      }
      if (!restoreOnly) serve(dir.resolve("server"));
    } finally {
      System.setOut(out);
      DirectoryTree.delete(dir);
    }
  }

  private static void restore(Path out, String replica, String... options) throws IOException {
    List<String> args = new java.util.ArrayList<>(List.of("restore", "-o", out.toString()));
    args.addAll(List.of(options));
    args.add(replica);
    int code = Main.run(args.toArray(String[]::new));
    if (code != 0) throw new IOException("training restore failed with exit code " + code);
  }

  /**
   * The training run of the small cache for the commands that only print ({@code version}, {@code --help}): a cache
   * holds every class it was trained with and the JVM maps them all at start, so the restore's cache (some 2,800
   * classes) would make {@code strata version} slower than no cache at all.
   */
  private static void cli() {
    PrintStream out = System.out;
    System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      Main.main(new String[] {"version"}); // main returns after these two: it calls System.exit for no other
      Main.main(new String[] {"--help"});
    } finally {
      System.setOut(out);
    }
  }

  /**
   * {@code strata serve} up to its first answer to {@code GET /pos} (what LiteFS asks first, and retries every
   * second), on an ephemeral port: its command line, its configuration, the server's start and one request.
   */
  private static void serve(Path data) throws Exception {
    picocli.CommandLine cl = Main.commandLine("serve");
    cl.parseArgs("serve", "--data", data.toString(), "--bind", "127.0.0.1:0");
    ServeCommand serve = cl.getSubcommands().get("serve").getCommand();
    try (dev.strata.server.Server server = dev.strata.server.Server.start(serve.config(System.getenv()))) {
      java.net.HttpURLConnection c =
          (java.net.HttpURLConnection) java.net.URI.create(server.localUrl() + "/pos").toURL().openConnection();
      c.setRequestProperty("Authorization", "cluster aot-training");
      int status = c.getResponseCode();
      try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
        if (in != null) in.readAllBytes();
      }
      if (status != 200) throw new IOException("training GET /pos answered " + status);
    }
  }

  /** A table with an index and a few MiB of rows: enough pages for the quick check to walk both kinds of b-tree. */
  private static void build(Path db) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("PRAGMA page_size=" + PAGE_SIZE);
      s.execute("PRAGMA journal_mode=OFF");
      s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT, n INTEGER)");
      s.execute("CREATE INDEX t_k ON t(k)");
      s.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 40000) "
          + "INSERT INTO t(k, v, n) SELECT 'key-' || abs(random() % 1000000000), hex(randomblob(40)), random() FROM r");
    }
  }

  /** Writes the database file as one compressed snapshot (TXID 1), as the agent's first sync does. */
  private static void snapshot(Path db, ReplicaClient replica) throws IOException {
    byte[] file = Files.readAllBytes(db);
    int pages = file.length / PAGE_SIZE;
    LtxHeader h = LtxHeader.of(LtxHeader.FLAG_COMPRESS_LZ4, PAGE_SIZE, pages, 1, 1, System.currentTimeMillis(), 0);
    ByteArrayOutputStream ltx = new ByteArrayOutputStream();
    LtxEncoder enc = new LtxEncoder(ltx, h);
    int lock = LtxHeader.lockPgno(PAGE_SIZE);
    for (int pgno = 1; pgno <= pages; pgno++) {
      if (pgno != lock) enc.encodePage(pgno, file, (pgno - 1) * PAGE_SIZE);
    }
    LtxTrailer trailer = enc.finish(enc.pagesChecksum());
    byte[] bytes = ltx.toByteArray();
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      replica.writeFile(9, new LtxFileInfo(h, trailer, enc.pageCount()), in, bytes.length);
    }
  }
}
