package dev.strata.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %redactedMsg} in the CLI's logback.xml: a log line's message as {@link CliErrors#redact} leaves it, so
 * that no log line of {@code strata replicate} or {@code strata serve} shows a secret a URL or the environment
 * holds.
 */
public final class RedactedMessage extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    return CliErrors.redact(event.getFormattedMessage());
  }
}
