package dev.strata.server;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real replica whose writes can be held at a gate, to stand for slow storage: {@link #entered} counts down when a
 * write arrives, and writes proceed once {@link #release} is called.
 */
final class GatedReplicaClient implements ReplicaClient {
  private final ReplicaClient inner;
  private final Gate gate;

  static final class Gate {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch open = new CountDownLatch(1);
    volatile boolean closed = true;
  }

  GatedReplicaClient(ReplicaClient inner) {
    this(inner, new Gate());
  }

  private GatedReplicaClient(ReplicaClient inner, Gate gate) {
    this.inner = inner;
    this.gate = gate;
  }

  Gate gate() {
    return gate;
  }

  void release() {
    gate.closed = false;
    gate.open.countDown();
  }

  @Override
  public String type() {
    return inner.type();
  }

  @Override
  public String location() {
    return inner.location();
  }

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    return inner.listFiles(level);
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    return inner.head(level, range);
  }

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    return inner.openFile(level, range, offset);
  }

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    if (gate.closed) {
      gate.entered.countDown();
      try {
        if (!gate.open.await(30, TimeUnit.SECONDS)) throw new IOException("gate never opened");
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
    }
    return inner.writeFile(level, info, data, size);
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    inner.deleteFiles(level, ranges);
  }

  @Override
  public List<String> listChildren() throws IOException {
    return inner.listChildren();
  }

  @Override
  public ReplicaClient child(String name) {
    return new GatedReplicaClient(inner.child(name), gate);
  }

  @Override
  public void close() throws IOException {
    inner.close();
  }
}
