package dev.strata.server;

import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * JSON as litefs-backup's Go code writes it: success bodies as {@code json.MarshalIndent(v, "", "  ")} (two-space
 * indent, {@code "key": value}, {@code {}} and {@code []} when empty, no trailing newline), error bodies as
 * {@code json.Encoder} (compact, then a newline). Like Go, {@code <}, {@code >} and {@code &} in strings are
 * escaped.
 */
public final class GoJson {
  /** Shared mapper; thread-safe once configured. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  static {
    MAPPER.getFactory().setCharacterEscapes(new HtmlSafeEscapes());
  }

  private static final ObjectWriter INDENTED = MAPPER.writer(goPrettyPrinter());
  private static final ObjectWriter COMPACT = MAPPER.writer();
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

  private GoJson() {}

  /** {@code json.MarshalIndent(v, "", "  ")}. */
  public static byte[] indented(Object value) {
    try {
      return INDENTED.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code json.NewEncoder(w).Encode(v)}: compact JSON and a newline. */
  public static byte[] compactLine(Object value) {
    try {
      return (COMPACT.writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses JSON. */
  public static JsonNode parse(byte[] json) throws IOException {
    return MAPPER.readTree(json);
  }

  /** Go's {@code time.Time} JSON form, RFC 3339 with as many fraction digits as needed (none for whole seconds). */
  public static String time(Instant t) {
    StringBuilder b = new StringBuilder(SECONDS.format(t));
    int nanos = t.getNano();
    if (nanos != 0) {
      String frac = String.format("%09d", nanos);
      int end = frac.length();
      while (frac.charAt(end - 1) == '0') end--;
      b.append('.').append(frac, 0, end);
    }
    return b.append('Z').toString();
  }

  private static DefaultPrettyPrinter goPrettyPrinter() {
    DefaultIndenter indent = new DefaultIndenter("  ", "\n");
    Separators seps = Separators.createDefaultInstance()
        .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
        .withObjectEmptySeparator("")
        .withArrayEmptySeparator("");
    return new DefaultPrettyPrinter(seps).withObjectIndenter(indent).withArrayIndenter(indent);
  }

  /** Escapes {@code < > &} as {@code \u003c} etc., as Go's encoder does by default. */
  private static final class HtmlSafeEscapes extends CharacterEscapes {
    private final int[] table = CharacterEscapes.standardAsciiEscapesForJSON();

    HtmlSafeEscapes() {
      table['<'] = CharacterEscapes.ESCAPE_CUSTOM;
      table['>'] = CharacterEscapes.ESCAPE_CUSTOM;
      table['&'] = CharacterEscapes.ESCAPE_CUSTOM;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return table;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return new SerializedString(String.format("\\u%04x", ch));
    }
  }
}
