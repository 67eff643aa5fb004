package dev.strata.cli;

import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaUrl;
import dev.strata.replica.age.AgeKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --age-identity} and {@code --age-recipient} for commands that read and write an encrypted replica. */
final class AgeKeyOptions {
  @Option(names = {"--age-identity", "-age-identity"}, paramLabel = "FILE",
      description = "age identity file (AGE-SECRET-KEY-1… lines) that decrypts the replica; may repeat.")
  List<Path> identities = new ArrayList<>();

  @Option(names = {"--age-recipient", "-age-recipient"}, paramLabel = "AGE1…",
      description = "age public key to encrypt to; may repeat.")
  List<String> recipients = new ArrayList<>();

  AgeKeys keys() {
    return new AgeKeys(recipients, identities);
  }

  /** Opens {@code url} with these keys added to the URL's own. */
  ReplicaClient open(String url) {
    return ReplicaUrl.open(url, keys());
  }
}
