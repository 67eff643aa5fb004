package dev.strata.replica.testing;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;

/**
 * A replica that forwards every call to another one: the one base class of test doubles that count requests,
 * hold writes or inject faults. Override what the test changes; {@link #child} wraps children through
 * {@link #wrap} so that a double over a server root sees its databases' requests too. A double never
 * {@link ReplicaClient#readsInPlace() reads in place}: restores through one take the download path.
 */
public class ForwardingReplicaClient implements ReplicaClient {
  protected final ReplicaClient delegate;

  public ForwardingReplicaClient(ReplicaClient delegate) {
    this.delegate = delegate;
  }

  /** The double for a child of {@link #delegate}; by default the child itself (not forwarded). */
  protected ReplicaClient wrap(ReplicaClient child) {
    return child;
  }

  @Override
  public String type() {
    return delegate.type();
  }

  @Override
  public String location() {
    return delegate.location();
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    return delegate.listFiles(level);
  }

  @Override
  public List<LtxFileMeta> listFilesAfter(int level, long afterTxid) throws IOException {
    return delegate.listFilesAfter(level, afterTxid);
  }

  /** Forwarded as one call: a double that changes {@link #listFiles} must change this too. */
  @Override
  public List<LtxFileMeta> listAllFiles() throws IOException {
    return delegate.listAllFiles();
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    return delegate.head(level, range);
  }

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    return delegate.openFile(level, range, offset);
  }

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    return delegate.writeFile(level, info, data, size);
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    delegate.deleteFiles(level, ranges);
  }

  @Override
  public List<String> listChildren() throws IOException {
    return delegate.listChildren();
  }

  @Override
  public ReplicaClient child(String name) {
    return wrap(delegate.child(name));
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
