package dev.strata.agent.testing;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.testing.ForwardingReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A replica client that counts the requests it passes on, and can be made to fail them. */
public final class CountingClient extends ForwardingReplicaClient {
  public final AtomicLong requests = new AtomicLong();
  public volatile boolean down;

  public CountingClient(ReplicaClient delegate) {
    super(delegate);
  }

  private void request() throws IOException {
    requests.incrementAndGet();
    if (down) throw new IOException("test replica is down");
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    request();
    return super.listFiles(level);
  }

  @Override
  public List<LtxFileMeta> listAllFiles() throws IOException {
    request();
    return super.listAllFiles();
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    request();
    return super.head(level, range);
  }

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    request();
    return super.openFile(level, range, offset);
  }

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    request();
    return super.writeFile(level, info, data, size);
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    request();
    super.deleteFiles(level, ranges);
  }

  @Override
  public List<String> listChildren() throws IOException {
    request();
    return super.listChildren();
  }

  @Override
  protected ReplicaClient wrap(ReplicaClient child) {
    return new CountingClient(child);
  }
}
