package dev.strata.server;

/**
 * The error codes of the litefs-backup API (spec §2.5) and the HTTP status each one is sent with. LiteFS only
 * parses {@code EPOSMISMATCH}; the others are shown to people.
 */
public enum ErrorCode {
  EPOSMISMATCH(409),
  EINVALIDAUTH(401),
  EBADCLUSTER(400),
  EBADDB(400),
  ENODB(404),
  EBADFORMAT(400),
  EBADINPUT(400),
  ENOTXID(404),
  ENOTIMESTAMP(404),
  EBADHEADER(422),
  EBADCHECKSUM(400),
  ENOPREVPAGE(409),
  EMISSINGPAGES(400),
  ENOPAGE(404),
  EBADPATH(400),
  /** Strata: a malformed or truncated LTX body (litefs-backup answers these with a 500). */
  EBADLTX(400),
  /**
   * Strata: a request the HTTP layer cannot read (a malformed chunked body, one cut short, an unparsable request
   * line or header). Not EBADLTX: the bytes never reached the LTX decoder, and /db/upload's body is a SQLite file.
   * litefs-backup answers these with a 500. Sent with 400, or with the HTTP layer's more specific 4xx (414 URI too
   * long, 431 headers too large).
   */
  EBADREQUEST(400),
  /** Strata: a known path with another method (chi answers these 405 with no body). */
  EBADMETHOD(405),
  /** Strata: a {@code Litefs-Cluster-Id} header that is not "LFSC" and 16 hex digits. */
  EBADCLUSTERID(400),
  /** Strata: the cluster is bound to another LiteFS cluster ID (LiteFS Cloud refused these with a 422 too). */
  ECLUSTERIDMISMATCH(422),
  /** Strata: the server is shutting down or its storage failed; worth retrying. */
  EUNAVAILABLE(503),
  EINTERNAL(500);

  private final int status;

  ErrorCode(int status) {
    this.status = status;
  }

  /** The HTTP status this code is sent with. */
  public int status() {
    return status;
  }
}
