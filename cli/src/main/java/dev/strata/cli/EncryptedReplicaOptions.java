package dev.strata.cli;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code REPLICA_URL}, {@code --age-identity} and {@code --age-recipient}: the arguments of the commands that read and
 * rewrite the files of a replica that may be encrypted ({@code compact}, {@code rekey}).
 */
final class EncryptedReplicaOptions {
  @Parameters(paramLabel = "REPLICA_URL", description = "The replica: a path, file://, s3:// or sftp:// URL.")
  String url;

  @Option(names = {"--age-identity", "-age-identity"}, paramLabel = "FILE",
      description = "age identity file (AGE-SECRET-KEY-1… lines) that decrypts the replica; may repeat.")
  List<Path> identities = new ArrayList<>();

  @Option(names = {"--age-recipient", "-age-recipient"}, paramLabel = "AGE1…",
      description = "age public key to encrypt to; may repeat.")
  List<String> recipients = new ArrayList<>();

  AgeKeys keys() {
    return new AgeKeys(recipients, identities);
  }

  /** Opens the replica with these keys added to the URL's own. */
  ReplicaClient open() {
    return ReplicaUrl.open(url, keys());
  }
}
