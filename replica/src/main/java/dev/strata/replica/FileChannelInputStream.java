package dev.strata.replica;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;

/**
 * A local file read as a stream from the channel's position, whose channel a reader able to use positional reads
 * may take over instead (an age replica decrypts its chunks straight from it); closing either closes the file.
 */
public final class FileChannelInputStream extends InputStream {
  private final FileChannel channel;
  private final InputStream in;

  public FileChannelInputStream(FileChannel channel) {
    this.channel = channel;
    this.in = Channels.newInputStream(channel);
  }

  /** The file, positioned after what was read through this stream. */
  public FileChannel channel() {
    return channel;
  }

  @Override
  public int read() throws IOException {
    return in.read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    return in.read(b, off, len);
  }

  @Override
  public long skip(long n) throws IOException {
    return in.skip(n);
  }

  @Override
  public int available() throws IOException {
    return in.available();
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
