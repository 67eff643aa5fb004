package dev.strata.server.store;

import java.io.IOException;

/**
 * A storage request that failed after the storage client's own retries (an S3 outage, a reset connection, an SFTP
 * host gone): worth retrying later, so the API answers it 503 {@code EUNAVAILABLE} with this message, which names
 * the object and the storage's answer and never a credential. Only transport failures are these: a file missing
 * from storage or one that does not decode is not.
 */
public final class StorageException extends IOException {
  StorageException(IOException cause) {
    super(cause.getMessage(), cause);
  }
}
