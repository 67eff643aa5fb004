package dev.strata.replica.age;

import com.exceptionfactory.jagged.FileKey;
import com.exceptionfactory.jagged.RecipientStanza;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The symmetric framing of an age v1 file (age-encryption.org/v1): the text header with its MAC, and the STREAM
 * payload of 64 KiB ChaCha20-Poly1305 chunks. The asymmetric part is jagged's when writing (wrapping the file key
 * for X25519 recipients) and {@link X25519Identity}'s when reading. Kept here rather than in jagged's channels because
 * a replica needs what they do not offer: a pull-based encrypting stream of known length, and decryption starting at
 * any chunk.
 */
final class AgeFormat {
  static final String VERSION_LINE = "age-encryption.org/v1";
  static final byte[] MAGIC = (VERSION_LINE + "\n").getBytes(StandardCharsets.US_ASCII);
  static final int CHUNK = 64 * 1024;
  static final int TAG = 16;
  static final int NONCE = 16;
  static final int CHUNK_CT = CHUNK + TAG;
  private static final int MAX_HEADER = 64 * 1024;
  private static final int COLUMNS = 64;
  private static final byte[] HEADER_INFO = "header".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PAYLOAD_INFO = "payload".getBytes(StandardCharsets.US_ASCII);

  private AgeFormat() {}

  /** One recipient stanza as read from a header. */
  record Stanza(String type, List<String> args, byte[] body) implements RecipientStanza {
    @Override
    public String getType() {
      return type;
    }

    @Override
    public List<String> getArguments() {
      return args;
    }

    @Override
    public byte[] getBody() {
      return body.clone();
    }
  }

  /**
   * A parsed header.
   *
   * @param length bytes from the start of the file to the end of the MAC line
   * @param macInput the bytes the MAC covers (through "---")
   */
  record Header(List<Stanza> stanzas, byte[] macInput, byte[] mac, int length) {
    /** The byte offset of payload chunk {@code index} (after the 16-byte nonce). */
    long chunkOffset(long index) {
      return length + NONCE + index * CHUNK_CT;
    }

    /** The plaintext length of a file of {@code stored} bytes with this header; -1 when no length fits. */
    long plainSize(long stored) {
      long payload = stored - length - NONCE;
      if (payload < TAG) return -1;
      long chunks = chunkCount(stored);
      long last = payload - (chunks - 1) * CHUNK_CT;
      if (chunks > 1 && last <= TAG) return -1; // only a whole empty payload ends in an empty chunk
      return payload - chunks * TAG;
    }

    long chunkCount(long stored) {
      long payload = stored - length - NONCE;
      return Math.max(1, (payload + CHUNK_CT - 1) / CHUNK_CT);
    }
  }

  /** True when {@code b} starts with the age v1 version line. */
  static boolean isAge(byte[] b, int len) {
    if (len < MAGIC.length) return false;
    return Arrays.equals(b, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  /** Reads a header; {@code in} is left at the payload nonce. */
  static Header readHeader(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream(256);
    String first = line(in, all);
    if (!VERSION_LINE.equals(first)) throw new AgeFileException("not an age file (no \"" + VERSION_LINE + "\" line)");
    List<Stanza> stanzas = new ArrayList<>();
    while (true) {
      int macStart = all.size();
      String l = line(in, all);
      if (l.startsWith("---")) {
        if (!l.startsWith("--- ")) throw new AgeFileException("malformed age header (MAC line)");
        byte[] all0 = all.toByteArray();
        byte[] macInput = Arrays.copyOf(all0, macStart + 3);
        byte[] mac = b64(l.substring(4));
        if (mac.length != 32) throw new AgeFileException("malformed age header (MAC length)");
        return new Header(List.copyOf(stanzas), macInput, mac, all.size());
      }
      if (!l.startsWith("-> ")) throw new AgeFileException("malformed age header (want a stanza or the MAC line)");
      String[] parts = l.substring(3).split(" ", -1);
      if (parts.length == 0 || parts[0].isEmpty()) throw new AgeFileException("malformed age header (empty stanza type)");
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String b = line(in, all);
        if (b.length() > COLUMNS) throw new AgeFileException("malformed age header (stanza body line too long)");
        body.writeBytes(b.getBytes(StandardCharsets.US_ASCII));
        if (b.length() < COLUMNS) break;
      }
      stanzas.add(new Stanza(parts[0], List.of(parts).subList(1, parts.length),
          b64(body.toString(StandardCharsets.US_ASCII))));
    }
  }

  private static String line(InputStream in, ByteArrayOutputStream all) throws IOException {
    StringBuilder b = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) throw new AgeFileException("age header ends early (file truncated)");
      all.write(c);
      if (all.size() > MAX_HEADER) throw new AgeFileException("age header longer than 64 KiB");
      if (c == '\n') return b.toString();
      if (c < 0x20 || c > 0x7e) throw new AgeFileException("malformed age header (not printable ASCII)");
      b.append((char) c);
    }
  }

  private static byte[] b64(String s) throws AgeFileException {
    if (s.endsWith("=")) throw new AgeFileException("malformed age header (base64 padding)");
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new AgeFileException("malformed age header (base64)");
    }
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().withoutPadding().encodeToString(b);
  }

  /**
   * The file key, from the first identity that opens a stanza, with the header MAC checked; null when no
   * identity opens any stanza.
   */
  static byte[] fileKey(Header h, List<X25519Identity> identities) throws IOException {
    for (X25519Identity id : identities) {
      byte[] k = id.fileKey(h.stanzas());
      if (k == null) continue;
      byte[] mac = hmac(hkdf(k, new byte[0], HEADER_INFO), h.macInput());
      if (!MessageDigest.isEqual(mac, h.mac())) throw new AgeFileException("age header MAC mismatch (header modified)");
      return k;
    }
    return null;
  }

  /** A new header for a fresh file key; returns the header bytes, the MAC line included. */
  static byte[] writeHeader(byte[] fileKey, List<RecipientStanzaWriter> recipients) throws IOException {
    StringBuilder b = new StringBuilder(VERSION_LINE).append('\n');
    try {
      FileKey key = new FileKey(fileKey.clone());
      for (RecipientStanzaWriter w : recipients) {
        for (RecipientStanza s : w.getRecipientStanzas(key)) {
          b.append("-> ").append(s.getType());
          for (String a : s.getArguments()) b.append(' ').append(a);
          b.append('\n');
          String body = b64(s.getBody());
          for (int i = 0; i <= body.length(); i += COLUMNS) {
            b.append(body, i, Math.min(body.length(), i + COLUMNS)).append('\n');
          }
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("age: wrapping the file key failed: " + e.getMessage(), e);
    }
    b.append("---");
    byte[] macInput = b.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] mac = hmac(hkdf(fileKey, new byte[0], HEADER_INFO), macInput);
    ByteArrayOutputStream out = new ByteArrayOutputStream(macInput.length + 48);
    out.writeBytes(macInput);
    out.writeBytes((" " + b64(mac) + "\n").getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    Random.INSTANCE.nextBytes(b);
    return b;
  }

  /** Made on first use: a SecureRandom starts the JDK's providers, which reading needs none of (see LibCrypto). */
  private static final class Random {
    static final SecureRandom INSTANCE = new SecureRandom();
  }

  /** The payload key from the file key and the payload nonce. */
  static byte[] payloadKey(byte[] fileKey, byte[] nonce) {
    return hkdf(fileKey, nonce, PAYLOAD_INFO);
  }

  /** Ciphertext bytes of a payload of {@code plain} bytes (nonce included), not counting the header. */
  static long payloadSize(long plain) {
    long chunks = Math.max(1, (plain + CHUNK - 1) / CHUNK);
    return NONCE + plain + chunks * TAG;
  }

  /** HKDF-SHA-256 (RFC 5869) of 32 bytes; an empty salt stands for 32 zeros. */
  static byte[] hkdf(byte[] ikm, byte[] salt, byte[] info) {
    byte[] prk = hmac(salt.length == 0 ? new byte[32] : salt, ikm);
    byte[] t = Arrays.copyOf(info, info.length + 1);
    t[info.length] = 1;
    byte[] okm = hmac(prk, t);
    Arrays.fill(prk, (byte) 0);
    return okm;
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    if (LibCrypto.available()) return LibCrypto.hmacSha256(key, data);
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }
}
