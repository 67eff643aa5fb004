package dev.strata.server.store;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;

/**
 * One database's storage as the metadata catalogue says it is: the files that count are the rows of {@code files},
 * each committed by the lease holder after its object was written. Objects written without that commit (a crash or
 * a takeover in between) are never listed, so never restore points; the snapshot job sweeps them.
 *
 * <p>The replica module's engine runs on this client as on any other ({@link ReplicaClient} is all it knows).
 * Listings cost a query instead of a storage LIST and carry every header field, so a restore plan needs no HEAD
 * requests either. Writes need the job's {@link Lease} ({@link #fence}): a file's row is inserted, and rows are
 * deleted before their objects, only while the lease is still this instance's. Without a lease the client reads
 * only.
 */
public final class CataloguedReplicaClient implements ReplicaClient {
  private final MetadataStore store;
  private final ReplicaClient storage;
  private final long dbId;
  private volatile Lease lease;

  public CataloguedReplicaClient(MetadataStore store, ReplicaClient storage, long dbId) {
    this.store = store;
    this.storage = storage;
    this.dbId = dbId;
  }

  /** The lease that this client's writes commit under (null: read only). */
  public void fence(Lease lease) {
    this.lease = lease;
  }

  /** The storage objects themselves, catalogued or not. */
  public ReplicaClient storage() {
    return storage;
  }

  @Override
  public String type() {
    return storage.type();
  }

  @Override
  public String location() {
    return storage.location();
  }

  @Override
  public boolean readsInPlace() {
    return storage.readsInPlace();
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    ReplicaClient.checkLevel(level);
    return store.read(c -> Rows.files(c, dbId, level));
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    LtxFileMeta f = store.read(c -> Rows.file(c, dbId, level, range));
    if (f == null) throw new NoSuchFileException(storage.location() + "/" + level + "/" + range.fileName());
    return f;
  }

  /** The object's bytes; a transport failure, on opening or while reading, is a {@link StorageException}. */
  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    try {
      return new FilterInputStream(storage.openFile(level, range, offset)) {
        @Override
        public int read() throws IOException {
          try {
            return super.read();
          } catch (IOException e) {
            throw transport(e);
          }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          try {
            return super.read(b, off, len);
          } catch (IOException e) {
            throw transport(e);
          }
        }

        @Override
        public long skip(long n) throws IOException {
          try {
            return super.skip(n);
          } catch (IOException e) {
            throw transport(e);
          }
        }
      };
    } catch (IOException e) {
      throw transport(e);
    }
  }

  /** A missing object (the catalogue and storage disagree) or one that does not open stays what it is. */
  private static IOException transport(IOException e) {
    return e instanceof StorageException || !ReplicaClient.isTransient(e) ? e : new StorageException(e);
  }

  /** Stores the object, then catalogues it under the lease; a lost lease leaves the object uncatalogued. */
  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    Lease l = requireLease();
    LtxFileMeta meta = storeObject(level, info, data, size);
    store.write(c -> {
      l.check(c);
      catalogue(c, meta);
      return null;
    });
    return meta;
  }

  /**
   * Stores the object only, uncatalogued: it counts once the caller commits {@link #catalogue} under the lease, in a
   * transaction of its own choosing (the server's flush commits it with the rest of its job).
   */
  public LtxFileMeta storeObject(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    LtxFileMeta written = storage.writeFile(level, info, data, size);
    return LtxFileMeta.of(level, info, written.size(), written.createdAt());
  }

  /** Catalogues a stored object; the caller's transaction checks the lease. */
  public void catalogue(Connection c, LtxFileMeta meta) throws SQLException {
    Rows.insertFile(c, dbId, meta);
  }

  /** Uncatalogues the files under the lease, then deletes their objects (a failure there leaves orphans to sweep). */
  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    if (ranges.isEmpty()) return;
    Lease l = requireLease();
    store.write(c -> {
      l.check(c);
      Rows.deleteFiles(c, dbId, level, ranges);
      return null;
    });
    storage.deleteFiles(level, ranges);
  }

  private Lease requireLease() {
    Lease l = lease;
    if (l == null) throw new IllegalStateException("catalogued storage is read-only without a lease");
    return l;
  }

  @Override
  public List<String> listChildren() {
    throw new UnsupportedOperationException("a database's catalogue has no children");
  }

  @Override
  public ReplicaClient child(String name) {
    throw new UnsupportedOperationException("a database's catalogue has no children");
  }

  /** The storage client belongs to the server's root client, closed with it. */
  @Override
  public void close() {}
}
