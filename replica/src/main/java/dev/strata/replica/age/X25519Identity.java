package dev.strata.replica.age;

import com.exceptionfactory.jagged.FileKey;
import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.bech32.Bech32;
import com.exceptionfactory.jagged.bech32.Bech32Address;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * One X25519 identity (an {@code AGE-SECRET-KEY-1…} line): opens the X25519 stanzas of the headers wrapped for its
 * recipient (age-encryption.org/v1, "the X25519 recipient type"). Where OpenSSL is {@link LibCrypto#available}, the
 * agreement, the HKDF and the unwrap are its; elsewhere jagged's reader does the same with the JDK's providers. Why
 * both: see {@link LibCrypto}. Never shows its key.
 */
final class X25519Identity {
  private static final String SECRET_PREFIX = "AGE-SECRET-KEY-";
  private static final String STANZA_TYPE = "X25519";
  private static final byte[] WRAP_INFO = "age-encryption.org/v1/X25519".getBytes(StandardCharsets.US_ASCII);
  private static final int FILE_KEY = 16;

  private final String line;
  private final byte[] secret;
  private byte[] recipient; // this identity's public key; computed on first use, guarded by this
  private RecipientStanzaReader jagged; // without OpenSSL; built on first use, guarded by this

  private X25519Identity(String line, byte[] secret) {
    this.line = line;
    this.secret = secret;
  }

  /** The identity of one {@code AGE-SECRET-KEY-1…} line; IllegalArgumentException (the key not shown) if invalid. */
  static X25519Identity parse(String line) {
    Bech32Address a;
    try {
      a = Bech32.getDecoder().decode(line);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a valid X25519 secret key");
    }
    byte[] secret = a.getData();
    if (!SECRET_PREFIX.equalsIgnoreCase(a.getHumanReadablePart().toString()) || secret.length != 32) {
      throw new IllegalArgumentException("not a valid X25519 secret key");
    }
    return new X25519Identity(line, secret);
  }

  /** The file key (16 bytes) of the first stanza that opens with this identity; null when none does. */
  byte[] fileKey(List<AgeFormat.Stanza> stanzas) {
    return LibCrypto.available() ? openSslFileKey(stanzas) : jaggedFileKey(stanzas);
  }

  byte[] openSslFileKey(List<AgeFormat.Stanza> stanzas) {
    for (AgeFormat.Stanza s : stanzas) {
      byte[] key = unwrap(s);
      if (key != null) return key;
    }
    return null;
  }

  /** The stanza's file key, or null when it is not an X25519 stanza wrapped for this identity. */
  private byte[] unwrap(AgeFormat.Stanza s) {
    if (!STANZA_TYPE.equals(s.type()) || s.args().size() != 1 || s.body().length != FILE_KEY + AgeFormat.TAG) {
      return null;
    }
    byte[] share;
    try {
      share = Base64.getDecoder().decode(s.args().get(0));
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (share.length != 32 || s.args().get(0).endsWith("=")) return null;
    byte[] shared = LibCrypto.x25519(secret, share);
    if (shared == null) return null;
    byte[] salt = Arrays.copyOf(share, 64);
    System.arraycopy(recipient(), 0, salt, 32, 32);
    byte[] wrapKey = AgeFormat.hkdf(shared, salt, WRAP_INFO);
    Arrays.fill(shared, (byte) 0);
    byte[] out = new byte[FILE_KEY + AgeFormat.TAG];
    try (PayloadCipher c = new OpenSslPayloadCipher(wrapKey, false)) {
      // The file key is sealed with a nonce of zeros: chunk 0, not the last, in age's STREAM terms.
      return Arrays.copyOf(out, c.chunk(0, false, s.body(), s.body().length, out));
    } catch (IOException wrappedForAnotherKey) {
      return null;
    } finally {
      Arrays.fill(wrapKey, (byte) 0);
    }
  }

  synchronized byte[] recipient() {
    if (recipient == null) recipient = LibCrypto.x25519PublicKey(secret);
    return recipient;
  }

  byte[] jaggedFileKey(List<AgeFormat.Stanza> stanzas) {
    try {
      FileKey key = jagged().getFileKey(List.copyOf(stanzas));
      return key.getEncoded();
    } catch (GeneralSecurityException | RuntimeException e) {
      return null; // no stanza opens with this identity
    }
  }

  private synchronized RecipientStanzaReader jagged() throws GeneralSecurityException {
    if (jagged == null) jagged = X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(line);
    return jagged;
  }

  @Override
  public String toString() {
    return "X25519Identity[" + SECRET_PREFIX.toLowerCase(Locale.ROOT) + "…]";
  }
}
