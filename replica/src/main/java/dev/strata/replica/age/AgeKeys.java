package dev.strata.replica.age;

import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * The age keys of one replica, as Litestream 0.3 configured them: recipients ({@code age1…} public keys) encrypt,
 * identities (files holding {@code AGE-SECRET-KEY-1…} lines, as {@code age-keygen} writes them) decrypt. Only X25519
 * keys are supported (jagged 1.0 has no SSH keys). Errors never show a secret key, only file names.
 */
public record AgeKeys(List<String> recipients, List<Path> identities) {
  /** No keys: the replica is not encrypted. */
  public static final AgeKeys NONE = new AgeKeys(List.of(), List.of());

  public AgeKeys {
    recipients = List.copyOf(new LinkedHashSet<>(recipients));
    identities = List.copyOf(new LinkedHashSet<>(identities));
  }

  /** True when neither recipients nor identities are given. */
  public boolean isEmpty() {
    return recipients.isEmpty() && identities.isEmpty();
  }

  /** These keys and {@code more}. */
  public AgeKeys plus(AgeKeys more) {
    List<String> r = new ArrayList<>(recipients);
    r.addAll(more.recipients);
    List<Path> i = new ArrayList<>(identities);
    i.addAll(more.identities);
    return new AgeKeys(r, i);
  }

  /** Checks every key now, so that bad configuration fails at start, with a one-line message. */
  public AgeKeys validate() {
    writers();
    readers();
    return this;
  }

  /** The encrypting side of each recipient. */
  List<RecipientStanzaWriter> writers() {
    List<RecipientStanzaWriter> out = new ArrayList<>();
    for (String r : recipients) {
      String key = r.strip();
      if (key.startsWith("ssh-")) {
        throw new IllegalArgumentException("age recipient " + shortKey(key) + ": SSH recipients are not supported "
            + "(use an X25519 key from age-keygen)");
      }
      if (!key.toLowerCase(Locale.ROOT).startsWith("age1")) {
        throw new IllegalArgumentException("age recipient " + shortKey(key) + " is not an age1… public key"
            + (key.startsWith("AGE-SECRET-KEY-") ? " (that is a secret key: give it as an identity file)" : ""));
      }
      try {
        out.add(X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(key));
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException("age recipient " + shortKey(key) + " is not a valid X25519 public key");
      }
    }
    return out;
  }

  /** The decrypting side of every key in every identity file. */
  List<X25519Identity> readers() {
    List<X25519Identity> out = new ArrayList<>();
    for (Path file : identities) {
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException("age identity file " + file + " does not exist");
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("age identity file " + file + " cannot be read: "
            + e.getClass().getSimpleName());
      }
      int found = 0, lineNo = 0;
      for (String line : lines) {
        lineNo++;
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#")) continue;
        if (!l.startsWith("AGE-SECRET-KEY-1")) {
          throw new IllegalArgumentException("age identity file " + file + ", line " + lineNo + ": not an "
              + "AGE-SECRET-KEY-1… line" + (l.startsWith("-----BEGIN") || l.startsWith("ssh-")
                  ? " (SSH keys are not supported)" : ""));
        }
        try {
          out.add(X25519Identity.parse(l));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("age identity file " + file + ", line " + lineNo
              + ": not a valid X25519 secret key");
        }
        found++;
      }
      if (found == 0) throw new IllegalArgumentException("age identity file " + file + " holds no key");
    }
    return out;
  }

  /** A key pair: the secret key ({@code AGE-SECRET-KEY-1…}, the line of an identity file) and its recipient. */
  public record Identity(String secretKey, String recipient) {
    /** The file text {@code age-keygen} would write. */
    public String fileText() {
      return "# public key: " + recipient + "\n" + secretKey + "\n";
    }

    @Override
    public String toString() {
      return "Identity[" + recipient + "]";
    }
  }

  /** A new X25519 key pair. */
  public static Identity newIdentity() {
    try {
      var pair = new com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator().generateKeyPair();
      return new Identity(pair.getPrivate().toString(), pair.getPublic().toString());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is not available", e);
    }
  }

  /** A public key shortened for messages. */
  static String shortKey(String key) {
    if (key.startsWith("AGE-SECRET-KEY-")) return "AGE-SECRET-KEY-…";
    return key.length() <= 16 ? "\"" + key + "\"" : "\"" + key.substring(0, 12) + "…\"";
  }

  /** Recipients and identity files, for logs: no secret is in either. */
  @Override
  public String toString() {
    return "AgeKeys[recipients=" + recipients.size() + ", identities=" + identities + "]";
  }
}
