package dev.strata.cli;

import dev.strata.ltx.LtxDecoder;
import dev.strata.server.client.ServerClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code strata cluster export DB [-f sqlite|ltx] [-o FILE]}: downloads the database's current state. To a file it
 * is written under a temporary name and renamed when complete (an LTX export is verified first); a progress bar
 * shows on a terminal.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Download a database's current state as a SQLite file (default) or an LTX snapshot.")
final class ClusterExportCommand implements Callable<Integer> {
  @ParentCommand ClusterCommand parent;

  @Parameters(paramLabel = "DB", description = "Database name") String db;

  @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", defaultValue = "sqlite",
      description = "sqlite or ltx (default ${DEFAULT-VALUE}).")
  String format;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Output file (default: standard output).")
  Path output;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("sqlite") && !format.equals("ltx")) {
      throw new IllegalArgumentException("unsupported format \"" + format + "\" (want sqlite or ltx)");
    }
    ServerClient.Download d = parent.client().snapshot(db, format);
    if (output == null) {
      try (InputStream in = d.body()) {
        in.transferTo(System.out);
      }
      System.out.flush();
      return 0;
    }
    Path dir = output.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, "." + output.getFileName() + ".", ".tmp");
    try {
      ProgressBar bar = ProgressBar.forTerminal(db, d.length());
      long n = 0;
      try (InputStream in = d.body(); OutputStream out = Files.newOutputStream(tmp)) {
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
        try (InputStream in = Files.newInputStream(tmp)) {
          LtxDecoder.verify(in);
        }
      }
      Files.move(tmp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    System.err.println("exported " + db + " to " + output);
    return 0;
  }
}
