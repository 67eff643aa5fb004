package dev.strata.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.strata.replica.testing.LocalPostgres;
import dev.strata.server.store.AppendTx;
import dev.strata.server.store.MetadataStore;
import dev.strata.server.store.SpooledLtx;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statements one upload runs on PostgreSQL, counted in its own log ({@code log_statement = all} on a database
 * of its own): each statement and round trip costs the server and PostgreSQL CPU, which they share, so their number
 * must not grow with the pages of a transaction.
 */
class UploadStatementsTest {
  private static final Pattern LOGGED = Pattern.compile("LOG:  (?:statement|execute [^:]*): (.*)");

  @TempDir Path dir;

  @Test
  void anUploadIsFiveStatementsWhateverItsPages() throws Exception {
    LocalPostgres pg = TestMetadata.postgres();
    String url = TestMetadata.freshLoggedDatabase();
    try (MetadataStore store = MetadataStore.open(url, dir)) {
      TestDb db = new TestDb(4096);
      upload(store, db.commit(Map.of(1, db.fill('a'), 2, db.fill('a'), 3, db.fill('a'), 4, db.fill('a')), 0));

      long at = Files.size(pg.logFile());
      upload(store, db.commit(Map.of(1, db.fill('b')), 0));
      String one = logSince(pg, at);

      at = Files.size(pg.logFile());
      upload(store, db.commit(Map.of(1, db.fill('c'), 2, db.fill('c'), 3, db.fill('c')), 0));
      String three = logSince(pg, at);

      at = Files.size(pg.logFile());
      upload(store, db.commit(Map.of(1, db.fill('c'), 2, db.fill('d')), 0)); // page 1 rewritten as it was
      String same = logSince(pg, at);

      at = Files.size(pg.logFile());
      upload(store, db.commit(Map.of(5, db.fill('e'), 6, db.fill('e')), 6, 0)); // two new pages
      String grown = logSince(pg, at);

      // BEGIN, the lock, the lookup (with the newest transaction), the write (pages, transaction, request), COMMIT;
      // sent in two round trips: BEGIN, lock and lookup together, then the write with the COMMIT
      assertThat(count(one)).as(one).isEqualTo(5);
      assertThat(count(three)).as(three).isEqualTo(5);
      assertThat(count(same)).as(same).isEqualTo(5);
      assertThat(count(grown)).as(grown).isEqualTo(5);
    }
  }

  private void upload(MetadataStore store, byte[] ltx) throws Exception {
    try (SpooledLtx file = SpooledLtx.receive(new ByteArrayInputStream(ltx), dir)) {
      store.write(AppendTx.tx("c1", "db", file, System.currentTimeMillis()));
    }
  }

  /** The statements logged since {@code offset}, without their parameters (pages are long). */
  private static String logSince(LocalPostgres pg, long offset) throws Exception {
    byte[] all = Files.readAllBytes(pg.logFile());
    StringBuilder out = new StringBuilder();
    for (String line : new String(all, (int) offset, all.length - (int) offset, StandardCharsets.UTF_8).split("\n")) {
      if (!line.contains("DETAIL:  parameters:")) out.append(line).append('\n');
    }
    return out.toString();
  }

  private static int count(String log) {
    int n = 0;
    for (Matcher m = LOGGED.matcher(log); m.find(); ) n++;
    return n;
  }
}
