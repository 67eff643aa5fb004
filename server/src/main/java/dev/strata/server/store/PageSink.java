package dev.strata.server.store;

import java.io.IOException;

/** Receives a database state page by page, in page-number order. */
public interface PageSink {
  /** Called first with the transaction whose state follows. */
  void begin(TxnRow txn) throws IOException;

  /** One page; {@code data} is only valid during the call. The lock page is never passed. */
  void page(int pgno, byte[] data) throws IOException;

  /** Called last, once the pages' checksum has been found equal to the transaction's post-apply checksum. */
  void end() throws IOException;
}
