package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The log lines of strata replicate and serve, as the CLI's logback.xml writes them. */
class LogLinesTest {
  @Test
  void oneLinePerEventWithoutSecretsOrStackTraces() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new LogbackMDCAdapter());
    try {
      JoranConfigurator config = new JoranConfigurator();
      config.setContext(ctx);
      config.doConfigure(Main.class.getResource("/logback.xml"));
      var stderr = (OutputStreamAppender<?>) ctx.getLogger("ROOT").getAppender("STDERR");
      stderr.setOutputStream(err); // the appender's own stream, instead of the real stderr
      ctx.getLogger("dev.strata.agent.DatabaseMonitor").warn("app.db: upload to {} failed: {}",
          "sftp://u:SUPERSEKRIT@h/p?password=SUPERSEKRIT", "boom", new IOException("boom"));
    } finally {
      ctx.stop();
    }
    assertThat(err.toString(StandardCharsets.UTF_8).lines()).singleElement().asString()
        .endsWith(" WARN  app.db: upload to sftp://u:***@h/p?password=*** failed: boom");
  }
}
