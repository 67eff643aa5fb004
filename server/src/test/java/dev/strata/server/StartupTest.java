package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link Server#start} refuses, and that its refusals keep secrets to themselves. */
class StartupTest {
  @TempDir Path dir;

  @Test
  void aConfigPrintsNoSecret() {
    ServerConfig cfg = ServerConfig.defaults(dir)
        .withReplicaUrl("s3://bkt?access-key-id=AKIAX&secret-access-key=SUPERSEKRIT")
        .withTokens(Tokens.parse("prod:t0ken"))
        .withTls(new ServerConfig.TlsConfig(dir.resolve("c.p12"), null, "pw0rd"));
    assertThat(cfg.toString()).contains("s3://bkt?access-key-id=***&secret-access-key=***")
        .doesNotContain("SUPERSEKRIT").doesNotContain("AKIAX").doesNotContain("t0ken").doesNotContain("pw0rd");
  }

  @Test
  void aBadStorageUrlIsRefusedWithoutShowingItsSecrets() {
    for (String url : List.of("s3://AKIAX:SUPERSEKRIT@bkt/p", "s3://AKIAX:SUPERSEKRIT/bkt",
        "s3://bkt?access-key-id=AKIAX&secret-access-key=SUPERSEKRIT&endpoint=ftp://AKIAX:SUPERSEKRIT@h",
        "sftp://u:SUPERSEKRIT@h/p?password=SUPERSEKRIT&unknown=AKIAX", "ftp://AKIAX:SUPERSEKRIT@h/p")) {
      ServerConfig cfg = ServerConfig.defaults(dir).withBind(new InetSocketAddress("127.0.0.1", 0))
          .withSchedule(false).withReplicaUrl(url);
      assertThatThrownBy(() -> Server.start(cfg).close()).as(url)
          .isInstanceOf(IllegalArgumentException.class).hasNoCause()
          .message().startsWith("storage: ").doesNotContain("SUPERSEKRIT").doesNotContain("AKIAX");
    }
  }
}
