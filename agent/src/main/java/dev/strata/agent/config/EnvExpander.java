package dev.strata.agent.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${VAR}} and {@code $VAR} with environment variables, as Litestream does over the whole config
 * text before parsing it. An unset variable becomes the empty string; {@code $$} is a literal {@code $}.
 */
public final class EnvExpander {
  private static final Pattern VAR = Pattern.compile("\\$(?:\\{([A-Za-z_][A-Za-z0-9_]*)}|([A-Za-z_][A-Za-z0-9_]*)|\\$)");

  private EnvExpander() {}

  /** Expands {@code text} with {@code env}. */
  public static String expand(String text, Map<String, String> env) {
    Matcher m = VAR.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      String value = name == null ? "$" : env.getOrDefault(name, "");
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
