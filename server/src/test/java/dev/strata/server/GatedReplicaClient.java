package dev.strata.server;

import dev.strata.ltx.LtxFileInfo;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.testing.ForwardingReplicaClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real replica whose writes can be held at a gate, to stand for slow storage: {@link #entered} counts down when a
 * write arrives, and writes proceed once {@link #release} is called.
 */
final class GatedReplicaClient extends ForwardingReplicaClient {
  private final Gate gate;

  static final class Gate {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch open = new CountDownLatch(1);
    volatile boolean closed = true;
  }

  GatedReplicaClient(ReplicaClient delegate) {
    this(delegate, new Gate());
  }

  private GatedReplicaClient(ReplicaClient delegate, Gate gate) {
    super(delegate);
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
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    if (gate.closed) {
      gate.entered.countDown();
      try {
        if (!gate.open.await(30, TimeUnit.SECONDS)) throw new IOException("gate never opened");
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
    }
    return super.writeFile(level, info, data, size);
  }

  @Override
  protected ReplicaClient wrap(ReplicaClient child) {
    return new GatedReplicaClient(child, gate);
  }
}
