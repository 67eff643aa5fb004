package dev.strata.cli;

import dev.strata.ltx.LtxDecoder;
import dev.strata.server.client.ServerClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code strata cluster export DB [-f sqlite|ltx] [-o FILE [--force]]}: downloads the database's current state. A
 * file is written as {@code strata restore} writes one (see {@link OutputFile}): never over an existing file
 * without {@code --force}, under {@code <FILE>.tmp} until complete (an LTX export verified first), then renamed.
 * A progress bar shows on a terminal.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Download a database's current state as a SQLite file (default) or an LTX snapshot.",
        "The file is written to <FILE>.tmp, then renamed into place; an existing file is never replaced without "
            + "--force."})
final class ClusterExportCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(paramLabel = "DB", description = "Database name") String db;

  @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", defaultValue = "sqlite",
      description = "sqlite or ltx (default ${DEFAULT-VALUE}).")
  String format;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Output file (default: standard output).")
  Path output;

  @Option(names = "--force", description = "Replace an existing output file (and a SQLite file's -wal and -shm).")
  boolean force;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("sqlite") && !format.equals("ltx")) {
      throw new IllegalArgumentException("unsupported format \"" + format + "\" (want sqlite or ltx)");
    }
    if (output == null) {
      try (InputStream in = parent.client().snapshot(db, format).body()) {
        in.transferTo(System.out);
      }
      System.out.flush();
      return 0;
    }
    try (OutputFile file = OutputFile.create(output, force, format.equals("sqlite"))) {
      ServerClient.Download d = parent.client().snapshot(db, format);
      ProgressBar bar = ProgressBar.forTerminal(db, d.length());
      long n = 0;
      try (InputStream in = d.body()) {
        OutputStream out = file.stream();
        byte[] buf = new byte[64 * 1024];
        for (int r; (r = in.read(buf)) > 0; ) {
          out.write(buf, 0, r);
          n += r;
          bar.update(n);
        }
      }
      bar.done(n);
      if (d.length() >= 0 && n != d.length()) {
        throw new IOException("export ended after " + n + " of " + d.length() + " bytes");
      }
      if (format.equals("ltx")) {
        try (InputStream in = Files.newInputStream(file.temporary())) {
          LtxDecoder.verify(in);
        }
      }
      file.place();
    }
    System.err.println("exported " + db + " to " + output);
    return 0;
  }
}
