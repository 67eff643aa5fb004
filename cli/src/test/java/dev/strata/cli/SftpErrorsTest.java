package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.ContextInitializer;
import dev.strata.cli.RestoreCommandsTest.Run;
import dev.strata.replica.testing.SftpTestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What an operator sees, with the shipped logging configuration, when an SFTP replica is refused. */
class SftpErrorsTest {
  @TempDir static Path tmp;
  static SftpTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = SftpTestServer.start(tmp.resolve("sftp-root"));
    // The shipped logback.xml, not the logback-test.xml another module's test classes may put first on the path.
    LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
    logging.reset();
    JoranConfigurator config = new JoranConfigurator();
    config.setContext(logging);
    config.doConfigure(Main.class.getResource("/logback.xml"));
    // The test server runs in this JVM; what it logs is not what an operator of strata sees.
    logging.getLogger("org.apache.sshd.server").setLevel(ch.qos.logback.classic.Level.OFF);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
    logging.reset();
    new ContextInitializer(logging).autoConfig();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Test
  void aRefusedHostKeyIsOneLineWithoutTheLibrarysWarnings() throws Exception {
    String otherKey = PublicKeyEntry.toString(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256)
        .getPublic());
    String url = "sftp://" + SftpTestServer.USER + "@127.0.0.1:" + server.port() + "/backups/app?key-path="
        + enc(server.clientKey().toString()) + "&host-key=" + enc(otherKey);
    for (int attempt = 0; attempt < 3; attempt++) { // whether the library logs depends on its threads' timing
      Run r = strata("restore", "-o", tmp.resolve("out.db").toString(), url);
      assertThat(r.exit()).isNotZero();
      assertThat(r.err().strip()).startsWith("strata: sftp host key mismatch for 127.0.0.1:" + server.port())
          .doesNotContain("\n");
    }
  }

  /** Runs a command, and keeps capturing stderr a little longer: the library's threads may log after it returns. */
  static Run strata(String... args) throws InterruptedException {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int exit = Main.run(args);
      Thread.sleep(300);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }
}
