package dev.strata.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The server's TLS context from a PKCS#12 keystore ({@code .p12}/{@code .pfx}, key path unset) or from PEM files: a
 * certificate chain and an unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}; RSA, EC or Ed25519).
 */
final class TlsContext {
  private TlsContext() {}

  static SSLContext load(ServerConfig.TlsConfig tls) throws IOException {
    try {
      char[] password = tls.password() == null ? new char[0] : tls.password().toCharArray();
      KeyStore ks;
      if (tls.privateKey() == null) {
        ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tls.certificate())) {
          ks.load(in, password);
        }
      } else {
        ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        Collection<? extends Certificate> chain;
        try (InputStream in = Files.newInputStream(tls.certificate())) {
          chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (chain.isEmpty()) throw new IOException("no certificate in " + tls.certificate());
        ks.setKeyEntry("server", privateKey(tls.privateKey()), password, chain.toArray(new Certificate[0]));
      }
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException("TLS: " + e.getMessage(), e);
    }
  }

  private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
    String text = Files.readString(pem);
    String begin = "-----BEGIN PRIVATE KEY-----", end = "-----END PRIVATE KEY-----";
    int b = text.indexOf(begin), e = text.indexOf(end);
    if (b < 0 || e < b) {
      throw new IOException(pem + ": want an unencrypted PKCS#8 key (BEGIN PRIVATE KEY); convert with"
          + " openssl pkcs8 -topk8 -nocrypt");
    }
    byte[] der = Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException ignored) {
        // try the next algorithm
      }
    }
    throw new IOException(pem + ": unsupported private key algorithm");
  }
}
