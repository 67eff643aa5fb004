package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No error line names a secret: not a URL's userinfo or secret options, a config file's values, the environment. */
class SecretsInErrorsTest {
  @TempDir Path dir;

  /** Replica URLs that each carry AKIAX (a key ID) and SUPERSEKRIT (its secret), and each fail to open or list. */
  static final List<String> URLS = List.of(
      "s3://AKIAX:SUPERSEKRIT@bkt/p?endpoint=http://127.0.0.1:1",
      "s3://AKIAX:SUPERSEKRIT/bkt/p",
      "s3://AKIAX:SUPER/SEKRIT@bkt/p",
      "s3://AKIAXSUPERSEKRIT@bkt/p",
      "s3://bkt/p?access-key-id=AKIAX&secret-access-key=SUPERSEKRIT&bogus=1",
      "s3://bkt/p?accessKeyId=AKIAX&secretAccessKey=SUPERSEKRIT&region=r&region=r",
      "s3://bkt/p?access_key_id=AKIAX&secret%2Daccess%2Dkey=SUPERSEKRIT&part-size=lots",
      "s3://bkt/p?secret-access-key=SUPERSEKRIT&access-key-id=AKIAX&endpoint=ftp://AKIAX:SUPERSEKRIT@h",
      "s3://bkt/p?SUPERSEKRIT&access-key-id=AKIAX",
      "s3:/AKIAX:SUPERSEKRIT@bkt/p",
      "s3:AKIAX:SUPERSEKRIT@bkt/p",
      "sftp://AKIAX:SUPERSEKRIT@h:port/p",
      "sftp://AKIAX:SUPER/SEKRIT@h/p",
      "sftp://u@h/p?password=SUPERSEKRIT&bogus=AKIAX",
      "gs://AKIAX:SUPERSEKRIT@bkt/p",
      "ftp://AKIAX:SUPERSEKRIT@bkt/p",
      "file://AKIAX:SUPERSEKRIT@host/p",
      "://AKIAX:SUPERSEKRIT@bkt");

  @Test
  void replicaUrlsInErrorsAreRedacted() {
    for (String url : URLS) {
      for (List<String> args : List.of(List.of("restore", "-o", dir.resolve("x.db").toString(), url),
          List.of("ltx", "ls", url), List.of("snapshots", url), List.of("restore-points", url),
          List.of("verify", url), List.of("restore", "--no-such-option", url))) {
        RestoreCommandsTest.Run r = RestoreCommandsTest.strata(args.toArray(String[]::new));
        assertThat(r.exit()).as("%s", args).isNotZero();
        assertThat(r.out() + r.err()).as("%s", args).doesNotContainIgnoringCase("super")
            .doesNotContainIgnoringCase("sekrit").doesNotContainIgnoringCase("akiax");
      }
    }
  }

  @Test
  void configFileValuesInErrorsAreRedacted() throws Exception {
    Path db = Files.writeString(dir.resolve("app.db"), "");
    String[] configs = {
      // a URL that does not match its type
      "dbs:\n  - path: " + db + "\n    replicas:\n      - type: sftp\n"
          + "        url: s3://AKIAX:SUPERSEKRIT@bkt/p\n",
      // a YAML error on a line holding a secret: the parser quotes the line
      "dbs:\n  - path: " + db + "\n    replicas:\n      - type: s3\n        bucket: b\n"
          + "        secret-access-key: SUPERSEKRIT: AKIAX\n",
      // keys that are valid, and a bad URL built from them
      "dbs:\n  - path: " + db + "\n    replicas:\n      - type: s3\n        bucket: b\n"
          + "        access-key-id: AKIAX\n        secret-access-key: SUPERSEKRIT\n        endpoint: ftp://x\n",
    };
    for (String config : configs) {
      Path file = Files.writeString(dir.resolve("strata.yml"), config);
      for (String command : List.of("restore", "ltx", "snapshots", "verify")) {
        RestoreCommandsTest.Run r = RestoreCommandsTest.strata(command, "-config", file.toString(), db.toString());
        assertThat(r.exit()).as("%s with %s", command, config).isNotZero();
        assertThat(r.out() + r.err()).as("%s with %s", command, config).doesNotContainIgnoringCase("sekrit")
            .doesNotContainIgnoringCase("akiax");
      }
    }
  }

  @Test
  void secretsFromTheEnvironmentAreMasked() {
    Map<String, String> env = Map.of("AWS_SECRET_ACCESS_KEY", "SUPERSEKRIT", "AWS_ACCESS_KEY_ID", "AKIAX",
        "STRATA_TOKENS", "prod:t0ken-prod,\ntest:t0ken-test", "LITEFS_CLOUD_TOKEN", "cluster prod",
        "HOME", "/root", "AWS_REGION", "us-east-1");
    assertThat(CliErrors.redact("SUPERSEKRIT AKIAX t0ken-prod t0ken-test /root us-east-1", env))
        .isEqualTo("*** *** *** *** /root us-east-1");
    assertThat(CliErrors.redact("cluster must be specified; a cluster prod token", env))
        .isEqualTo("cluster must be specified; a *** token");
  }

  @Test
  void urlsAreRedactedWhereverTheyAppear() {
    assertThat(CliErrors.redact("GET http://u:SUPERSEKRIT@h:2200/pos: refused", Map.of()))
        .isEqualTo("GET http://***@h:2200/pos: refused");
    assertThat(CliErrors.redact("no backup in \"s3://b/p?secret-access-key=SUPERSEKRIT&region=r\"", Map.of()))
        .isEqualTo("no backup in \"s3://b/p?secret-access-key=***&region=r\"");
  }
}
