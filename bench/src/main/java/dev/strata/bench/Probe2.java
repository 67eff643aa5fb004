package dev.strata.bench;

import dev.strata.ltx.LtxDecoder;
import dev.strata.replica.file.FileReplicaClient;
import dev.strata.replica.restore.IntegrityCheck;
import dev.strata.replica.restore.RestoreExecutor;
import dev.strata.replica.restore.RestorePlanner;
import dev.strata.replica.restore.RestoreProgress;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

public class Probe2 {
  public static void main(String[] a) throws Exception {
    Path dir = Path.of(a[0]);
    FileReplicaClient client = new FileReplicaClient(dir.resolve("replica"));
    var plan = new RestorePlanner(client).latest();
    Path snap = client.root().resolve("9").resolve(plan.files().getFirst().fileName());
    for (int r = 0; r < 3; r++) {
      long t0 = System.nanoTime();
      try (InputStream in = Files.newInputStream(snap)) { LtxDecoder.verify(in); }
      System.out.printf("decode+verify %.2f s%n", (System.nanoTime() - t0) / 1e9);
      Path out = dir.resolve("out.db");
      Files.deleteIfExists(out);
      t0 = System.nanoTime();
      new RestoreExecutor(client, new RestoreExecutor.Options(4, IntegrityCheck.NONE, true, RestoreProgress.silent()))
          .restore(plan, out);
      System.out.printf("restore(NONE) %.2f s%n", (System.nanoTime() - t0) / 1e9);
      t0 = System.nanoTime();
      IntegrityCheck.QUICK.run(out);
      System.out.printf("quick_check %.2f s%n", (System.nanoTime() - t0) / 1e9);
    }
  }
}
