package dev.strata.ltx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files of {@code testdata/ltx-versions}, written by superfly/ltx v0.3.14 … v0.5.2, and what their manifests
 * say about them (header fields, page patterns, checksums, page index).
 */
final class LtxVersionsFixture {
  private LtxVersionsFixture() {}

  /** One manifest entry. */
  record Entry(String file, String tag, LtxFormat format, String variant, Map<String, Object> json) {
    Path path() {
      return Golden.file("ltx-versions", file);
    }

    byte[] bytes() {
      try {
        return Files.readAllBytes(path());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    Map<String, Object> header() {
      return Json.object(json.get("header"));
    }

    List<Map<String, Object>> pages() {
      return Json.array(json.get("pages")).stream().map(Json::object).toList();
    }

    String string(String key) {
      return (String) json.get(key);
    }

    @Override
    public String toString() {
      return file;
    }
  }

  /** Every entry of every {@code ltx-*-manifest.json}. */
  static Stream<Entry> entries() {
    List<Entry> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(Golden.shared().resolve("testdata/ltx-versions"))) {
      for (Path mf : files.filter(p -> p.getFileName().toString().matches("ltx-.*-manifest\\.json")).sorted().toList()) {
        for (Object o : Json.array(Json.parse(Files.readString(mf)))) {
          Map<String, Object> e = Json.object(o);
          LtxFormat format = switch (((Long) e.get("ltx_format_version")).intValue()) {
            case 1 -> LtxFormat.V1;
            case 2 -> LtxFormat.V2;
            case 3 -> LtxFormat.V3;
            default -> throw new IllegalStateException("unknown format in " + mf);
          };
          all.add(new Entry((String) e.get("file"), (String) e.get("ltx_tag"), format, (String) e.get("variant"), e));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all.stream();
  }

  /** The page patterns of {@code manifest.json}, for 4096-byte pages. */
  static byte[] pattern(String name) {
    byte[] b = new byte[4096];
    switch (name) {
      case "P1" -> {
        for (int i = 0; i < b.length; i++) b[i] = (byte) i;
      }
      case "P2a" -> java.util.Arrays.fill(b, (byte) 0x02);
      case "P2b" -> {
        for (int i = 0; i < b.length; i++) b[i] = i < 2048 ? (byte) 0xB2 : (byte) (i * 7);
      }
      case "P3" -> {
        int x = 0x03030303;
        for (int i = 0; i < b.length; i++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          b[i] = (byte) x;
        }
      }
      default -> throw new IllegalArgumentException("unknown pattern " + name);
    }
    return b;
  }
}
