package dev.strata.replica.testing;

import dev.strata.replica.age.AgeKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** An age key pair written to an identity file, as {@code age-keygen -o} would, for tests of encrypted replicas. */
public record AgeTestKeys(Path identityFile, String recipient) {
  /** A new key pair; the identity goes to {@code dir/name}. */
  public static AgeTestKeys create(Path dir, String name) {
    AgeKeys.Identity id = AgeKeys.newIdentity();
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(name);
      Files.writeString(file, id.fileText());
      return new AgeTestKeys(file, id.recipient());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The keys. */
  public AgeKeys keys() {
    return new AgeKeys(java.util.List.of(recipient), java.util.List.of(identityFile));
  }

  /** {@code age-recipient=…&age-identity=…} for a replica URL. */
  public String query() {
    return "age-recipient=" + recipient + "&age-identity="
        + URLEncoder.encode(identityFile.toString(), StandardCharsets.UTF_8);
  }

  /** {@code url} with this key's query options added. */
  public String addTo(String url) {
    return url + (url.contains("?") ? "&" : "?") + query();
  }
}
