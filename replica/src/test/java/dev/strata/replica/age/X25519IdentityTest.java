package dev.strata.replica.age;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.exceptionfactory.jagged.bech32.Bech32;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The identities that open file keys: OpenSSL's X25519 path and jagged's give the same keys from the headers jagged
 * wrote, refuse the same stanzas, and LibCrypto's known answers are the JDK's.
 */
class X25519IdentityTest {
  private static final HexFormat HEX = HexFormat.of();

  private static AgeFormat.Header header(byte[] fileKey, String... recipients) throws Exception {
    byte[] h = AgeFormat.writeHeader(fileKey, new AgeKeys(List.of(recipients), List.of()).writers());
    return AgeFormat.readHeader(new ByteArrayInputStream(h));
  }

  @Test
  void bothPathsOpenWhatJaggedWrappedForTheirRecipientAndNothingElse() throws Exception {
    assumeTrue(LibCrypto.available());
    AgeKeys.Identity a = AgeKeys.newIdentity(), b = AgeKeys.newIdentity(), other = AgeKeys.newIdentity();
    byte[] fileKey = AgeFormat.randomBytes(16);
    AgeFormat.Header h = header(fileKey, a.recipient(), b.recipient());
    for (AgeKeys.Identity k : List.of(a, b)) {
      X25519Identity id = X25519Identity.parse(k.secretKey());
      assertArrayEquals(Bech32.getDecoder().decode(k.recipient()).getData(), id.recipient(), "public key");
      assertArrayEquals(fileKey, id.openSslFileKey(h.stanzas()));
      assertArrayEquals(fileKey, id.jaggedFileKey(h.stanzas()));
      assertArrayEquals(fileKey, AgeFormat.fileKey(h, List.of(X25519Identity.parse(other.secretKey()), id)));
    }
    X25519Identity stranger = X25519Identity.parse(other.secretKey());
    assertNull(stranger.openSslFileKey(h.stanzas()));
    assertNull(stranger.jaggedFileKey(h.stanzas()));
    assertNull(AgeFormat.fileKey(h, List.of(stranger)));
  }

  @Test
  void malformedStanzasOpenWithNeitherPath() throws Exception {
    assumeTrue(LibCrypto.available());
    AgeKeys.Identity a = AgeKeys.newIdentity();
    X25519Identity id = X25519Identity.parse(a.secretKey());
    AgeFormat.Stanza good = header(AgeFormat.randomBytes(16), a.recipient()).stanzas().get(0);
    String share = good.args().get(0);
    List<AgeFormat.Stanza> bad = new ArrayList<>(List.of(
        new AgeFormat.Stanza("scrypt", good.args(), good.body()),
        new AgeFormat.Stanza("X25519", List.of(share, share), good.body()),
        new AgeFormat.Stanza("X25519", List.of(), good.body()),
        new AgeFormat.Stanza("X25519", List.of(share + "="), good.body()),
        new AgeFormat.Stanza("X25519", List.of(share.substring(1)), good.body()),
        new AgeFormat.Stanza("X25519", List.of("!" + share.substring(1)), good.body()),
        new AgeFormat.Stanza("X25519", good.args(), java.util.Arrays.copyOf(good.body(), 31)),
        // the zero point: every scalar gives a zero shared secret, which age refuses
        new AgeFormat.Stanza("X25519", List.of(Base64.getEncoder().withoutPadding().encodeToString(new byte[32])),
            good.body())));
    byte[] flipped = good.body().clone();
    flipped[3] ^= 1;
    bad.add(new AgeFormat.Stanza("X25519", good.args(), flipped));
    for (AgeFormat.Stanza s : bad) {
      assertNull(id.openSslFileKey(List.of(s)), s.type() + " " + s.args());
      assertNull(id.jaggedFileKey(List.of(s)), s.type() + " " + s.args());
    }
    assertEquals(16, id.openSslFileKey(List.of(bad.get(0), good)).length, "a good stanza after bad ones");
  }

  @Test
  void invalidSecretKeysAreRefusedWithoutShowingThem() {
    String key = AgeKeys.newIdentity().secretKey();
    char last = key.charAt(key.length() - 1);
    List<String> bad = List.of(
        key.substring(0, key.length() - 1) + (last == 'Q' ? 'P' : 'Q'), // checksum
        key.substring(0, key.length() - 2), // cut
        key.replace("AGE-SECRET-KEY-", "AGE-PLUGIN-KEY-"), // another kind of key (checksum too)
        "AGE-SECRET-KEY-1", "", "not a key");
    for (String s : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> X25519Identity.parse(s), s);
      if (s.length() > 20) assertFalse(e.getMessage().contains(s.substring(15, 25)), e.getMessage());
    }
    assertFalse(X25519Identity.parse(key).toString().contains(key.substring(15, 25)));
  }

  @Test
  void libCryptosKnownAnswersAreTheJdks() throws Exception {
    byte[] scalar = HEX.parseHex(LibCrypto.X25519_KNOWN_ANSWER[0]);
    byte[] u = HEX.parseHex(LibCrypto.X25519_KNOWN_ANSWER[1]);
    KeyFactory kf = KeyFactory.getInstance("XDH");
    KeyAgreement ka = KeyAgreement.getInstance("X25519");
    ka.init(kf.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar)));
    ka.doPhase(kf.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, littleEndian(u))), true);
    assertEquals(LibCrypto.X25519_KNOWN_ANSWER[2], HEX.formatHex(ka.generateSecret()));
    KeyAgreement base = KeyAgreement.getInstance("X25519");
    base.init(kf.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar)));
    byte[] nine = new byte[32];
    nine[0] = 9;
    base.doPhase(kf.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, littleEndian(nine))), true);
    assertEquals(LibCrypto.X25519_KNOWN_PUBLIC_KEY, HEX.formatHex(base.generateSecret()));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec("Jefe".getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
    assertEquals(LibCrypto.HMAC_KNOWN_ANSWER,
        HEX.formatHex(mac.doFinal("what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII))));
    if (LibCrypto.available()) {
      byte[] key = AgeFormat.randomBytes(45), data = AgeFormat.randomBytes(1000);
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      assertArrayEquals(mac.doFinal(data), LibCrypto.hmacSha256(key, data));
    }
  }

  private static BigInteger littleEndian(byte[] b) {
    byte[] r = new byte[b.length];
    for (int i = 0; i < b.length; i++) r[i] = b[b.length - 1 - i];
    r[0] &= 0x7f; // RFC 7748: the top bit of a u-coordinate is masked
    return new BigInteger(1, r);
  }
}
