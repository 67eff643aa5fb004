package dev.strata.server.http;

import dev.strata.server.ApiException;
import dev.strata.server.ErrorCode;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's error handler: the errors Jetty answers itself, before or instead of {@link ApiHandler} (an unparsable
 * request line or URI, an illegal header, headers too large, conflicting lengths, bad chunking), in the API's JSON
 * error shape. A request Jetty could not read is {@code EBADREQUEST} with Jetty's 4xx status (400, 414 URI too long,
 * 431 headers too large; 400 for an HTTP version or transfer coding it does not support) and its short reason,
 * which names no Java class; anything else is 500 {@code EINTERNAL} (503 {@code EUNAVAILABLE} while stopping).
 */
final class JsonErrors implements Request.Handler {
  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    Throwable cause = (Throwable) request.getAttribute(ErrorHandler.ERROR_EXCEPTION);
    int status = cause instanceof HttpException h ? h.getCode() : response.getStatus();
    String reason = cause instanceof HttpException h ? h.getReason() : null;
    ApiException error;
    if (status == HttpStatus.SERVICE_UNAVAILABLE_503) {
      error = new ApiException(ErrorCode.EUNAVAILABLE, "server is stopping");
    } else if (HttpStatus.isClientError(status) || cause instanceof HttpException && status != 500) {
      if (!HttpStatus.isClientError(status)) status = HttpStatus.BAD_REQUEST_400; // 501, 505: the client's too
      error = new ApiException(ErrorCode.EBADREQUEST, "malformed request: "
          + (reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason));
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR_500;
      error = new ApiException(ErrorCode.EINTERNAL, "internal error");
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Call.JSON);
    response.write(true, ByteBuffer.wrap(Call.errorBody(error)), callback);
    return true;
  }
}
