package dev.strata.ltx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Page and database checksums (spec §1.6, §1.12) and the checksum text and JSON forms (§1.8). */
class ChecksumTest {
  private static byte[] fill(int size, char c) {
    byte[] b = new byte[size];
    Arrays.fill(b, (byte) c);
    return b;
  }

  /** The database checksum of pages 1..n with the given fills. */
  private static long database(int pageSize, char... fills) {
    long c = Checksum.EMPTY_DATABASE;
    for (int i = 0; i < fills.length; i++) c = Checksum.roll(c, 0, Checksum.ofPage(i + 1, fill(pageSize, fills[i])));
    return c;
  }

  @ParameterizedTest
  @CsvSource({
    "1, 512, 1, eb1a999231044ddd",
    "2, 512, 2, c637667102377eee",
    "1, 512, 5, 964fe2298abff666",
    "2, 512, 5, 969dfef98abff666",
    "2, 512, 6, bb621dcab98cc555",
  })
  void pageChecksumVectors(int pgno, int pageSize, char fill, String want) {
    assertThat(Checksum.format(Checksum.ofPage(pgno, fill(pageSize, fill)))).isEqualTo(want);
  }

  @Test
  void pageChecksumOfAZeroPage() {
    assertThat(Checksum.format(Checksum.ofPage(1, new byte[4096]))).isEqualTo("d9328f592d9e733d");
  }

  @Test
  void pageChecksumOfARangeOfALargerArray() {
    byte[] b = new byte[600];
    Arrays.fill(b, 50, 562, (byte) '1');
    assertThat(Checksum.ofPage(1, b, 50, 512)).isEqualTo(0xeb1a999231044dddL);
  }

  @Test
  void databaseChecksumVectors() {
    assertThat(Checksum.EMPTY_DATABASE).isEqualTo(0x8000000000000000L);
    assertThat(Checksum.format(database(512, '1'))).isEqualTo("eb1a999231044ddd");
    assertThat(Checksum.format(database(512, '2'))).isEqualTo("c6e57aa102377eee");
    assertThat(Checksum.format(database(512, '3'))).isEqualTo("cdb0244fecd99000");
    assertThat(Checksum.format(database(512, '5', '5'))).isEqualTo("80d21cd000000000");
    assertThat(Checksum.format(database(512, '5', '6'))).isEqualTo("ad2dffe333333333");
    assertThat(Checksum.format(database(512, '1', '2'))).isEqualTo("ad2dffe333333333"); // CRC linearity
    assertThat(Checksum.format(database(4096, '1'))).isEqualTo("ba568a48153a6705");
    assertThat(Checksum.format(database(1024, '2', '3'))).isEqualTo("e1899b6d587aaaaa"); // superfly/ltx decoder test
    assertThat(Checksum.format(database(512, '2', '3'))).isEqualTo("8b87423eeeeeeeee"); // DecodeDatabaseTo test
  }

  /** litefs-backup TestStore_WriteTx: rolling the checksum page by page reaches the full recomputation. */
  @Test
  void rollingFollowsWritesAndTruncation() {
    long snapshot = database(512, '1');
    long tx2 = Checksum.roll(snapshot, Checksum.ofPage(1, fill(512, '1')), Checksum.ofPage(1, fill(512, '2')));
    assertThat(Checksum.format(tx2)).isEqualTo("c6e57aa102377eee");

    // TestStore_WriteTx/Delete: truncate to 0 (remove page 1), then write pages 1 and 2 of '3'.
    long deleted = Checksum.roll(tx2, Checksum.ofPage(1, fill(512, '2')), 0);
    assertThat(deleted).isEqualTo(Checksum.EMPTY_DATABASE);
    long regrown = Checksum.roll(Checksum.roll(deleted, 0, Checksum.ofPage(1, fill(512, '3'))), 0,
        Checksum.ofPage(2, fill(512, '3')));
    assertThat(Checksum.format(regrown)).isEqualTo("80d21cd000000000");
  }

  @Test
  void TestChecksumReader_OK() throws IOException {
    InputStream db = new SequenceInputStream(Collections.enumeration(List.of(
        new ByteArrayInputStream(fill(512, '\1')), new ByteArrayInputStream(fill(512, '\2')),
        new ByteArrayInputStream(fill(512, '\3')))));
    assertThat(Checksum.ofDatabase(db, 512)).isEqualTo(0xefffffffecd99000L);
  }

  @Test
  void TestChecksumReader_ErrUnexpectedEOF() {
    assertThatThrownBy(() -> Checksum.ofDatabase(new ByteArrayInputStream(fill(512, '\1')), 1024))
        .isInstanceOf(EOFException.class).hasMessage("database ends inside page 1");
  }

  @Test
  void databaseChecksumOfAFileSkipsTheLockPage() throws IOException {
    // 512-byte pages put the lock page at 2097153, past 1 GiB: stream a database of lockPgno+1 pages lazily.
    int lockPgno = LtxHeader.lockPgno(512);
    long pages = lockPgno + 1L;
    InputStream db = new InputStream() {
      long pos;

      @Override
      public int read() {
        return pos < pages * 512 ? (int) (pos++ / 512 % 251) : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (pos == pages * 512) return -1;
        int n = (int) Math.min(Math.min(len, pages * 512 - pos), 512 - pos % 512); // up to the page's end
        Arrays.fill(b, off, off + n, (byte) (pos / 512 % 251));
        pos += n;
        return n;
      }
    };
    long want = Checksum.EMPTY_DATABASE;
    byte[] page = new byte[512];
    for (int pgno = 1; pgno <= pages; pgno++) {
      if (pgno == lockPgno) continue;
      Arrays.fill(page, (byte) ((pgno - 1) % 251));
      want = Checksum.roll(want, 0, Checksum.ofPage(pgno, page));
    }
    assertThat(Checksum.ofDatabase(db, 512)).isEqualTo(want);
  }

  @Test
  void TestChecksum_String() {
    assertThat(Checksum.format(0)).isEqualTo("0000000000000000");
    assertThat(Checksum.format(1000)).isEqualTo("00000000000003e8");
    assertThat(Checksum.format(-1)).isEqualTo("ffffffffffffffff");
  }

  @Test
  void TestParseChecksum_OK() {
    assertThat(Checksum.parse("0000000000000000")).isZero();
    assertThat(Checksum.parse("00000000000003e8")).isEqualTo(1000);
    assertThat(Checksum.parse("ffffffffffffffff")).isEqualTo(-1);
    assertThat(Checksum.parse("FFFFFFFFFFFFFFFF")).as("Go's ParseUint takes upper case").isEqualTo(-1);
  }

  @Test
  void TestParseChecksum_ErrTooShort() {
    assertThatThrownBy(() -> Checksum.parse("000000000e38"))
        .hasMessage("invalid formatted checksum length: \"000000000e38\"");
  }

  @Test
  void TestParseChecksum_ErrTooLong() {
    assertThatThrownBy(() -> Checksum.parse("ffffffffffffffff0"))
        .hasMessage("invalid formatted checksum length: \"ffffffffffffffff0\"");
  }

  @Test
  void TestParseChecksum_ErrInvalidFormat() {
    assertThatThrownBy(() -> Checksum.parse("xxxxxxxxxxxxxxxx"))
        .hasMessage("invalid checksum format: \"xxxxxxxxxxxxxxxx\"");
    assertThatThrownBy(() -> Checksum.parse("+00000000000003e")).as("a sign is not a digit")
        .hasMessage("invalid checksum format: \"+00000000000003e\"");
  }

  @Test
  void TestChecksum_MarshalJSON_OK() {
    assertThat(Checksum.toJson(1000)).isEqualTo("\"00000000000003e8\"");
  }

  @Test
  void TestChecksum_MarshalJSON_Map() {
    Map<String, Long> m = new java.util.TreeMap<>(Map.of("x", 1000L, "y", 2000L));
    StringBuilder json = new StringBuilder("{");
    m.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":")
        .append(Checksum.toJson(v)));
    assertThat(json.append('}').toString()).isEqualTo("{\"x\":\"00000000000003e8\",\"y\":\"00000000000007d0\"}");
  }

  @Test
  void TestChecksum_UnmarshalJSON_OK() {
    assertThat(Checksum.parseJson("\"00000000000003e8\"")).isEqualTo(1000);
  }

  @Test
  void TestChecksum_UnmarshalJSON_Null() {
    assertThat(Checksum.parseJson("null")).isZero();
  }

  @Test
  void TestChecksum_UnmarshalJSON_ErrInvalidType() {
    assertThatThrownBy(() -> Checksum.parseJson("123")).hasMessage("cannot unmarshal checksum from JSON value");
  }

  @Test
  void TestChecksum_UnmarshalJSON_ErrStringFormat() {
    assertThatThrownBy(() -> Checksum.parseJson("\"xyz\"")).hasMessage("cannot parse checksum from JSON string: \"xyz\"");
  }

  @Test
  void isValidMeansTheFlagIsSet() {
    assertThat(Checksum.isValid(Checksum.FLAG)).isTrue();
    assertThat(Checksum.isValid(0)).isFalse();
    assertThat(Checksum.isValid(0x7fffffffffffffffL)).isFalse();
  }
}
