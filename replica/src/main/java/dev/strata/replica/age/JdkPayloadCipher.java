package dev.strata.replica.age;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** The payload cipher on the JDK's ChaCha20-Poly1305: present in every JDK. */
final class JdkPayloadCipher extends PayloadCipher {
  private final Cipher cipher;
  private final SecretKeySpec key;
  private final int mode;

  JdkPayloadCipher(byte[] key, boolean encrypt) {
    this.key = new SecretKeySpec(key, "ChaCha20");
    this.mode = encrypt ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE;
    try {
      this.cipher = Cipher.getInstance("ChaCha20-Poly1305");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ChaCha20-Poly1305 is not available in this JDK", e);
    }
  }

  @Override
  int chunk(long index, boolean last, MemorySegment in, int len, byte[] out, int at) throws IOException {
    try {
      cipher.init(mode, key, new IvParameterSpec(nonce(index, last)));
      return cipher.doFinal(in.asSlice(0, len).asByteBuffer(), ByteBuffer.wrap(out, at, out.length - at));
    } catch (AEADBadTagException e) {
      throw unauthentic(index);
    } catch (GeneralSecurityException e) {
      throw new IOException("age: ChaCha20-Poly1305 failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {}
}
