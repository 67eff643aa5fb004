package dev.strata.server.store;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;

/** Work done on a metadata connection inside a transaction the store manages. */
@FunctionalInterface
public interface SqlJob<T> {
  T run(Connection c) throws SQLException, IOException;
}
