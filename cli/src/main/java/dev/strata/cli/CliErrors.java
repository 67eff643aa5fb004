package dev.strata.cli;

import dev.strata.replica.ReplicaUrl;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Turns an exception into the one line a user sees, with no secret in it. */
final class CliErrors {
  /** Environment variables whose values are secrets (AWS_SECRET_ACCESS_KEY, STRATA_TOKENS, …). */
  private static final Pattern SECRET_VARIABLE =
      Pattern.compile("(?i).*(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE_KEY).*|AWS_ACCESS_KEY(_ID)?");
  /** SnakeYAML quotes the line of a syntax error ("in 'reader', line 6, column 39: …"): it may hold a key. */
  private static final Pattern QUOTED_YAML_LINE = Pattern.compile("\\s*in 'reader', line \\d+, column \\d+:.*",
      Pattern.DOTALL);
  /** Shorter pieces are not masked: they would mask ordinary words. */
  private static final int MIN_SECRET = 4;

  private CliErrors() {}

  static String oneLine(Throwable e) {
    // An encrypted replica read without the right key: that alone is the message, whatever wrapped it.
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof dev.strata.replica.age.AgeKeyException) return redact(t.getMessage());
    }
    String msg = switch (e) {
      case NoSuchFileException n -> "no such file: " + n.getFile();
      case AccessDeniedException a -> "permission denied: " + a.getFile();
      case FileAlreadyExistsException f -> "file already exists: " + f.getFile();
      case DirectoryNotEmptyException d -> "directory not empty: " + d.getFile();
      case NotDirectoryException d -> "not a directory: " + d.getFile();
      default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    };
    return redact(QUOTED_YAML_LINE.matcher(msg).replaceFirst("").replace('\n', ' '));
  }

  /** What the CLI prints of a message: see {@link #redact(String, Map)}, with this process's environment. */
  static String redact(String text) {
    return mask(text, ProcessSecrets.LONGEST_FIRST);
  }

  /**
   * {@code text} with the secrets of every URL in it masked ({@link ReplicaUrl#redact}), and every secret the
   * environment holds: the value of a variable whose name says secret, password, token or access key, and each
   * of its list items ({@code a:b,c:d}: each item and its part after the colon).
   */
  static String redact(String text, Map<String, String> env) {
    return mask(text, secrets(env));
  }

  /**
   * The process's secrets, found once: every log line of {@code strata serve} (one per request) is redacted, and
   * matching each variable's name again for each line was 12% of the server's Java samples under a LiteFS load.
   */
  private static final class ProcessSecrets {
    static final List<String> LONGEST_FIRST = secrets(System.getenv());
  }

  private static String mask(String text, List<String> secrets) {
    String out = ReplicaUrl.redact(text);
    for (String s : secrets) out = out.replace(s, "***");
    return out;
  }

  /** The secrets {@code env} holds, longest first, so that a value is masked whole before any piece of it. */
  private static List<String> secrets(Map<String, String> env) {
    Set<String> secrets = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!SECRET_VARIABLE.matcher(e.getKey()).matches() || e.getValue() == null) continue;
      secrets.add(e.getValue().strip());
      for (String item : e.getValue().split("[,\\n]")) { // not on spaces: "cluster prod" would mask "cluster"
        secrets.add(item.strip());
        secrets.add(item.substring(item.indexOf(':') + 1).strip());
      }
    }
    return secrets.stream().filter(s -> s.length() >= MIN_SECRET)
        .sorted(Comparator.comparingInt(String::length).reversed()).toList();
  }
}
