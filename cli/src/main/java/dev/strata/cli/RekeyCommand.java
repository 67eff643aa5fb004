package dev.strata.cli;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeyException;
import dev.strata.replica.age.AgeKeys;
import dev.strata.replica.age.AgeReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code strata rekey URL --age-identity OLD --age-recipient NEW…}: re-encrypts every file of a replica to the
 * recipients given, one file at a time, each replaced atomically (the backend writes the new file whole, then
 * replaces the old one). Unencrypted files are encrypted too. A file none of the identities opens is skipped: it was
 * re-encrypted by an earlier run (when the new recipients leave the old key out) or is not this key's; so a rerun
 * after an interruption carries on where it stopped, and until then the old identity keeps opening every file not
 * yet done.
 */
@Command(name = "rekey", mixinStandardHelpOptions = true,
    description = {"Re-encrypt every file of a replica to new age recipients, atomically per file; resumable.",
        "Files the identities cannot open are skipped (already re-encrypted by an earlier run)."})
final class RekeyCommand implements Callable<Integer> {
  @Mixin EncryptedReplicaOptions replica;

  @Option(names = {"--dry-run"}, description = "List what would be re-encrypted and stop.")
  boolean dryRun;

  @Override
  public Integer call() throws IOException {
    if (replica.identities.isEmpty()) throw new IllegalArgumentException("--age-identity OLD_KEY_FILE is required");
    if (replica.recipients.isEmpty()) throw new IllegalArgumentException("--age-recipient NEW_PUBLIC_KEY is required");
    replica.keys().validate();
    try (ReplicaClient opened = ReplicaUrl.open(replica.url)) {
      ReplicaClient backend = AgeReplicaClient.unwrap(opened);
      AgeReplicaClient reader = AgeReplicaClient.wrap(backend, new AgeKeys(List.of(), replica.identities));
      AgeReplicaClient writer = AgeReplicaClient.wrap(backend, new AgeKeys(replica.recipients, List.of()));
      int done = 0, skipped = 0;
      long bytes = 0;
      for (int level = 0; level <= ReplicaClient.MAX_LEVEL; level++) {
        for (LtxFileMeta f : backend.listFiles(level)) {
          LtxFileMeta m;
          try {
            m = reader.head(level, f.range());
          } catch (AgeKeyException e) {
            skipped++;
            continue;
          } catch (java.nio.file.NoSuchFileException e) {
            continue; // deleted meanwhile (retention)
          }
          if (!m.hasHeader()) {
            throw new IOException("replica file " + f.path() + " is damaged (its header or trailer does not read); "
                + "nothing after it was re-encrypted");
          }
          if (dryRun) {
            System.out.println("would re-encrypt " + f.path());
            done++;
            continue;
          }
          LtxFileInfo info = new LtxFileInfo(LtxHeader.of(0, m.pageSize(), m.commit(), m.minTxid(), m.maxTxid(),
              m.timestamp(), m.preApplyChecksum()), new LtxTrailer(m.postApplyChecksum(), 0), -1);
          try (InputStream in = reader.openFile(level, f.range(), 0)) {
            writer.writeFile(level, info, in, m.size());
          } catch (java.nio.file.NoSuchFileException e) {
            continue;
          }
          done++;
          bytes += m.size();
        }
      }
      System.out.println((dryRun ? "would re-encrypt " : "re-encrypted ") + done + " file" + (done == 1 ? "" : "s")
          + (dryRun ? "" : " (" + FileTable.size(bytes) + ")") + " in " + backend.location() + " to "
          + replica.recipients.size() + " recipient" + (replica.recipients.size() == 1 ? "" : "s") + "; skipped "
          + skipped + " that the identities do not open (already re-encrypted)");
      return 0;
    }
  }
}
