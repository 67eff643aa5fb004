package dev.strata.replica.age;

import com.exceptionfactory.jagged.RecipientStanzaWriter;
import dev.strata.ltx.LtxException;
import dev.strata.ltx.LtxFileInfo;
import dev.strata.ltx.LtxHeader;
import dev.strata.ltx.LtxTrailer;
import dev.strata.ltx.TxidRange;
import dev.strata.replica.FileChannelInputStream;
import dev.strata.replica.LtxFileMeta;
import dev.strata.replica.ReplicaClient;
import dev.strata.replica.ReplicaFiles;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A replica whose files are age files (age-encryption.org/v1) holding the ordinary LTX files: the client-side
 * encryption of DESIGN.md "Encryption". It decorates any backend; names and the level layout stay as they are.
 *
 * <p>Callers see an unencrypted replica: listings and {@link #head} report the LTX files' own sizes and header
 * fields (read by decrypting the first and the last chunk of each file once, then cached while the stored file keeps
 * its size and time); {@link #openFile} returns plaintext from any offset, decrypting only the chunks from there on;
 * {@link #writeFile} encrypts while the backend uploads (one 64 KiB chunk in memory). A file that is not an age file
 * (written before encryption was turned on) is read as it is.
 *
 * <p>Three modes, by the keys given: recipients and identities read and write; recipients alone write (a write-only
 * host: listings then carry no sizes, header fields or checksums, and reading a file is an {@link AgeKeyException});
 * no keys at all only detects an encrypted replica, failing with {@link #NO_IDENTITY} when one is read.
 *
 * <p>S3 object metadata of an encrypted file carries the TXIDs and the timestamp only: page size, commit and the
 * database checksums are left out (zero), as they describe the plaintext.
 */
public final class AgeReplicaClient implements ReplicaClient {
  /** The error when an encrypted file is read without an identity. */
  public static final String NO_IDENTITY =
      "replica is encrypted; give an age identity (--age-identity or age: identities)";

  private final ReplicaClient delegate;
  private final AgeKeys keys;
  private final List<RecipientStanzaWriter> writers;
  private final List<X25519Identity> readers;
  private final Map<String, Described> described = new ConcurrentHashMap<>();
  private final boolean[] sniffed = new boolean[MAX_LEVEL + 1]; // levels checked for age files (no keys given)

  private record Described(long storedSize, Instant storedAt, LtxFileMeta meta) {}

  /**
   * The file keys of the headers opened most recently, by the header's bytes (identical bytes, MAC included, are
   * the same file key): a file read twice, its ends when listed and then whole when restored, unwraps its key once.
   * Each unwrap is an X25519 agreement, tens of microseconds of OpenSSL's, about 2 ms of the JDK's; a restore of a
   * minute of changes opens some seventy files. Callers get copies, so that a key leaving the cache (or the client
   * closed) is zeroed while a read may still be deriving from it.
   */
  private final Map<String, byte[]> fileKeys = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
      if (size() <= KNOWN_FILE_KEYS) return false;
      Arrays.fill(eldest.getValue(), (byte) 0);
      return true;
    }
  };
  private static final int KNOWN_FILE_KEYS = 1024;

  private AgeReplicaClient(ReplicaClient delegate, AgeKeys keys, List<RecipientStanzaWriter> writers,
      List<X25519Identity> readers) {
    this.delegate = delegate;
    this.keys = keys;
    this.writers = writers;
    this.readers = readers;
  }

  /**
   * The replica {@code client} encrypted to {@code recipients} ({@code age1…} public keys) and decrypted with the
   * keys in the {@code identities} files; with neither, a client that only detects encrypted files. Bad keys are an
   * {@link IllegalArgumentException} with a one-line message holding no secret.
   */
  public static AgeReplicaClient wrap(ReplicaClient client, List<String> recipients, List<Path> identities) {
    return wrap(client, new AgeKeys(recipients, identities));
  }

  /** See {@link #wrap(ReplicaClient, List, List)}; a client already wrapped gets {@code keys} added to its own. */
  public static AgeReplicaClient wrap(ReplicaClient client, AgeKeys keys) {
    if (client instanceof AgeReplicaClient a) {
      if (keys.isEmpty()) return a;
      return wrap(a.delegate, a.keys.plus(keys));
    }
    if (!keys.isEmpty()) LibCrypto.preload();
    return new AgeReplicaClient(client, keys, keys.writers(), keys.readers());
  }

  /**
   * Starts binding OpenSSL (50-70 ms of a core: the FFM API spins a stub per function) on a thread of its own, for a
   * command about to open encrypted files; {@link #wrap} starts it otherwise, when the replica is opened.
   */
  public static void preload() {
    LibCrypto.preload();
  }

  /** The backend under an age client, or the client itself. */
  public static ReplicaClient unwrap(ReplicaClient client) {
    return client instanceof AgeReplicaClient a ? a.delegate : client;
  }

  /** The backend. */
  public ReplicaClient delegate() {
    return delegate;
  }

  /** The keys. */
  public AgeKeys keys() {
    return keys;
  }

  /** True when files written are encrypted (recipients given). */
  public boolean encrypts() {
    return !writers.isEmpty();
  }

  /** True when encrypted files can be read (identities given). */
  public boolean decrypts() {
    return !readers.isEmpty();
  }

  /** True when no key is given: the client passes everything through and only detects encrypted files. */
  public boolean detectsOnly() {
    return writers.isEmpty() && readers.isEmpty();
  }

  @Override
  public String type() {
    return delegate.type();
  }

  @Override
  public String location() {
    return delegate.location();
  }

  /**
   * As the storage below: a restore merges decrypting streams where the files lie (the merge reads each file once,
   * in order) rather than first decrypting whole files into temporary ones, which wrote and read every byte twice.
   */
  @Override
  public boolean readsInPlace() {
    return delegate.readsInPlace();
  }

  private String name(int level, TxidRange range) {
    return "replica file " + level + "/" + range.fileName() + " in " + delegate.location();
  }

  private static String key(int level, TxidRange range) {
    return level + "/" + range.fileName();
  }

  // ---- listings ----

  @Override
  public List<LtxFileMeta> listFiles(int level) throws IOException {
    return describeAll(level, delegate.listFiles(level));
  }

  @Override
  public List<LtxFileMeta> listFilesAfter(int level, long afterTxid) throws IOException {
    return describeAll(level, delegate.listFilesAfter(level, afterTxid));
  }

  /** The backend's one listing of all levels, each level then described as {@link #listFiles} describes it. */
  @Override
  public List<LtxFileMeta> listAllFiles() throws IOException {
    List<LtxFileMeta> raw = delegate.listAllFiles();
    List<LtxFileMeta> out = new ArrayList<>(raw.size());
    for (int level = 0; level <= MAX_LEVEL; level++) {
      int l = level;
      out.addAll(describeAll(level, raw.stream().filter(f -> f.level() == l).toList()));
    }
    return out;
  }

  /**
   * The backend's listing, each file described only when that costs nothing (a plain LTX file the backend read, a
   * description kept from earlier); else bare, with size 0 (the plaintext's size is in the file). Describing a file
   * is two chunk reads and an X25519 unwrap: a restore to the latest state of a replica with a snapshot, 6 level-1
   * and 61 level-0 files needs 10 of the 68.
   */
  @Override
  public List<LtxFileMeta> listAllNames() throws IOException {
    List<LtxFileMeta> raw = delegate.listAllFiles();
    listed.clear(); // what an earlier listing left undescribed: its files are found again below, or gone
    if (detectsOnly()) {
      for (int level = 0; level <= MAX_LEVEL; level++) {
        int l = level;
        checkNotEncrypted(level, raw.stream().filter(f -> f.level() == l).toList());
      }
      return raw;
    }
    List<LtxFileMeta> out = new ArrayList<>(raw.size());
    for (LtxFileMeta f : raw) {
      LtxFileMeta known = known(f);
      if (known == null) listed.put(key(f.level(), f.range()), f);
      out.add(known != null ? known : LtxFileMeta.bare(f.level(), f.range(), 0, f.createdAt()));
    }
    return out;
  }

  /** The stored size and time of the files {@link #listAllNames} gave bare, which describing them needs. */
  private final Map<String, LtxFileMeta> listed = new ConcurrentHashMap<>();

  @Override
  public List<LtxFileMeta> describeListed(List<LtxFileMeta> files) throws IOException {
    if (detectsOnly()) return files;
    List<LtxFileMeta> out = new ArrayList<>(files.size());
    List<Integer> todo = new ArrayList<>();
    for (LtxFileMeta f : files) {
      Described d = described.get(key(f.level(), f.range()));
      boolean known = f.described() || d != null;
      if (!known) todo.add(out.size());
      out.add(d != null ? d.meta : f);
    }
    return describeInPlace(out, todo, f -> {
      try {
        return head(f.level(), f.range());
      } catch (NoSuchFileException e) {
        return null; // deleted since listed
      }
    }, "reading file headers of " + delegate.location());
  }

  private List<LtxFileMeta> describeAll(int level, List<LtxFileMeta> raw) throws IOException {
    if (detectsOnly()) {
      checkNotEncrypted(level, raw);
      return raw;
    }
    List<LtxFileMeta> out = new ArrayList<>(raw.size());
    List<Integer> todo = new ArrayList<>();
    for (LtxFileMeta f : raw) {
      LtxFileMeta known = known(f);
      if (known == null) todo.add(out.size());
      out.add(known != null ? known : f);
    }
    return describeInPlace(out, todo, f -> describe(f.level(), f.range(), f.size(), f.createdAt()),
        "listing " + delegate.location());
  }

  /**
   * Replaces the entries of {@code out} at the indexes {@code todo} with what {@code describe} reads of them, in
   * parallel, then drops the files deleted meanwhile (null); returns {@code out}.
   */
  private static List<LtxFileMeta> describeInPlace(List<LtxFileMeta> out, List<Integer> todo,
      ReplicaFiles.FileStep describe, String what) throws IOException {
    if (todo.isEmpty()) return out;
    List<LtxFileMeta> read = ReplicaFiles.inParallel(todo.stream().map(out::get).toList(), describe,
        e -> e instanceof AgeKeyException, what);
    for (int k = 0; k < todo.size(); k++) out.set(todo.get(k), read.get(k));
    out.removeIf(Objects::isNull);
    return out;
  }

  /**
   * Without keys: fails with {@link #NO_IDENTITY} when the level holds age files, before anything acts on the listing
   * (a restore would otherwise start and fail on its first read). One small read per level and client, of a file the
   * backend could not describe (all of them on S3).
   */
  private void checkNotEncrypted(int level, List<LtxFileMeta> raw) throws IOException {
    if (sniffed[level]) return;
    for (LtxFileMeta f : raw) {
      if (f.described()) continue;
      InputStream in;
      try {
        in = delegate.openFile(level, f.range(), 0);
      } catch (NoSuchFileException e) {
        continue;
      }
      try {
        byte[] b = in.readNBytes(AgeFormat.MAGIC.length);
        if (AgeFormat.isAge(b, b.length)) throw new AgeKeyException(NO_IDENTITY);
      } finally {
        closeEarly(in);
      }
      break;
    }
    sniffed[level] = true;
  }

  /** What is known of a listed file without a request: its plaintext header, or a cached description. */
  private LtxFileMeta known(LtxFileMeta f) {
    if (f.described()) return f; // an unencrypted LTX file, read by the backend
    if (!decrypts()) return LtxFileMeta.bare(f.level(), f.range(), 0, f.createdAt()); // size unknown
    Described d = described.get(key(f.level(), f.range()));
    return d != null && d.storedSize == f.size() && d.storedAt.equals(f.createdAt()) ? d.meta : null;
  }

  @Override
  public LtxFileMeta head(int level, TxidRange range) throws IOException {
    // A file listAllNames gave bare: its stored size and time are known, no request to the backend for them.
    LtxFileMeta listedBare = detectsOnly() ? null : listed.get(key(level, range));
    LtxFileMeta f = listedBare != null ? listedBare : delegate.head(level, range);
    if (detectsOnly()) return f;
    LtxFileMeta known = known(f);
    if (known != null) return known;
    LtxFileMeta d = describe(level, range, f.size(), f.createdAt());
    if (d == null) throw new NoSuchFileException(name(level, range)); // deleted since listed
    return d;
  }

  /**
   * Reads the LTX header and trailer of a stored file through its first and last chunk. An unencrypted file is
   * described from its own bytes; a damaged one is described bare with size 0 (reading it names the damage).
   */
  private LtxFileMeta describe(int level, TxidRange range, long stored, Instant created) throws IOException {
    String name = name(level, range);
    LtxFileMeta meta;
    InputStream raw;
    try {
      raw = delegate.openFile(level, range, 0);
    } catch (NoSuchFileException e) {
      return null; // deleted since listed
    }
    try {
      BufferedInputStream in = new BufferedInputStream(raw, READ_BUFFER);
      byte[] head;
      byte[] tail;
      long plain;
      if (!sniff(in)) {
        plain = stored;
        head = in.readNBytes(LtxHeader.SIZE);
        tail = plain >= LtxHeader.SIZE + LtxTrailer.SIZE ? readTail(level, range, plain) : null;
      } else {
        AgeFormat.Header h = AgeFormat.readHeader(in);
        byte[] key = payloadKey(h, in, name);
        plain = h.plainSize(stored);
        long chunks = h.chunkCount(stored);
        try {
          if (plain < 0) throw new AgeFileException(name + ": stored size does not fit an age payload (truncated?)");
          // Not closed: that would close the stored stream too, which closeEarly below ends without reading it out.
          DecryptingInputStream d = new DecryptingInputStream(in, key, 0, 0, chunks, name);
          head = d.readNBytes(LtxHeader.SIZE);
          if (plain < LtxHeader.SIZE + LtxTrailer.SIZE) {
            tail = null;
          } else if (plain - LtxTrailer.SIZE < AgeFormat.CHUNK) {
            d.skipNBytes(plain - LtxTrailer.SIZE - LtxHeader.SIZE);
            tail = d.readNBytes(LtxTrailer.SIZE);
          } else {
            long at = plain - LtxTrailer.SIZE;
            long index = at / AgeFormat.CHUNK;
            try (InputStream last = new DecryptingInputStream(delegate.openFile(level, range, h.chunkOffset(index)),
                key, index, (int) (at % AgeFormat.CHUNK), chunks, name)) {
              tail = last.readNBytes(LtxTrailer.SIZE);
            }
          }
        } finally {
          Arrays.fill(key, (byte) 0); // each cipher keeps a copy of its own, freed when its stream closes
        }
      }
      if (tail == null || tail.length < LtxTrailer.SIZE) {
        meta = LtxFileMeta.bare(level, range, plain, created);
      } else {
        try {
          meta = LtxFileMeta.stored(level, range, LtxHeader.decode(head), LtxTrailer.decode(tail, 0), plain,
              created);
        } catch (LtxException e) {
          meta = LtxFileMeta.bare(level, range, plain, created);
        }
      }
    } catch (AgeFileException e) {
      meta = LtxFileMeta.bare(level, range, 0, created);
    } finally {
      closeEarly(raw);
    }
    described.put(key(level, range), new Described(stored, created, meta));
    return meta;
  }

  private byte[] readTail(int level, TxidRange range, long size) throws IOException {
    try (InputStream in = delegate.openFile(level, range, size - LtxTrailer.SIZE)) {
      return in.readNBytes(LtxTrailer.SIZE);
    }
  }

  /** True when the stream starts with the age version line; the stream is left where it was. */
  private static boolean sniff(BufferedInputStream in) throws IOException {
    in.mark(AgeFormat.MAGIC.length);
    byte[] b = in.readNBytes(AgeFormat.MAGIC.length);
    in.reset();
    return AgeFormat.isAge(b, b.length);
  }

  /** The payload key of a file whose header was just read; {@code in} is left at the first chunk. */
  private byte[] payloadKey(AgeFormat.Header h, InputStream in, String name) throws IOException {
    if (readers.isEmpty()) throw new AgeKeyException(NO_IDENTITY);
    String header = new String(h.macInput(), StandardCharsets.ISO_8859_1) + Base64.getEncoder().encodeToString(h.mac());
    byte[] fileKey;
    synchronized (fileKeys) {
      byte[] known = fileKeys.get(header);
      fileKey = known == null ? null : known.clone();
    }
    if (fileKey == null) {
      try {
        fileKey = AgeFormat.fileKey(h, readers);
      } catch (AgeFileException e) {
        throw new AgeFileException(name + ": " + e.getMessage());
      }
      if (fileKey != null) {
        synchronized (fileKeys) {
          byte[] replaced = fileKeys.put(header, fileKey.clone()); // another read of the file unwrapped it too
          if (replaced != null) Arrays.fill(replaced, (byte) 0);
        }
      }
    }
    if (fileKey == null) {
      throw new AgeKeyException("wrong age identity: " + keys.identities().stream().map(Path::toString)
          .reduce((a, b) -> a + ", " + b).orElse("") + " does not open " + name);
    }
    try {
      byte[] nonce = in.readNBytes(AgeFormat.NONCE);
      if (nonce.length < AgeFormat.NONCE) throw new AgeFileException(name + ": age payload truncated (no nonce)");
      return AgeFormat.payloadKey(fileKey, nonce);
    } finally {
      Arrays.fill(fileKey, (byte) 0);
    }
  }

  // ---- reads ----

  @Override
  public InputStream openFile(int level, TxidRange range, long offset) throws IOException {
    return decrypting(name(level, range), off -> delegate.openFile(level, range, off), offset);
  }

  /** Reads a plain file of another tool's layout (an age-encrypted Litestream 0.3 replica) decrypted, as files. */
  @Override
  public List<StoredObject> listObjects() throws IOException {
    return delegate.listObjects();
  }

  @Override
  public InputStream openObject(String name, long offset) throws IOException {
    return decrypting("replica file " + name + " in " + delegate.location(),
        off -> delegate.openObject(name, off), offset);
  }

  /**
   * Reads of stored bytes are this large: two chunks, so that each read of a chunk (and the byte after it, which
   * tells whether it was the last) is a copy from memory rather than two system calls.
   */
  private static final int READ_BUFFER = 2 * (AgeFormat.CHUNK_CT + 1);

  /** Opens stored bytes from an offset. */
  private interface RawOpener {
    InputStream open(long offset) throws IOException;
  }

  /** Plaintext from {@code offset} of the stored file {@code raw} opens; a file that is not an age file as it is. */
  private InputStream decrypting(String name, RawOpener raw0, long offset) throws IOException {
    if (offset < 0) throw new IllegalArgumentException("negative offset: " + offset);
    if (detectsOnly() && offset > 0) return raw0.open(offset);
    InputStream raw = raw0.open(0);
    boolean handedOver = false;
    try {
      BufferedInputStream in = new BufferedInputStream(raw, READ_BUFFER);
      if (!sniff(in)) {
        if (offset == 0) {
          handedOver = true;
          return in;
        }
        return raw0.open(offset);
      }
      if (detectsOnly() || !decrypts()) throw new AgeKeyException(NO_IDENTITY);
      AgeFormat.Header h = AgeFormat.readHeader(in);
      byte[] key = payloadKey(h, in, name);
      try {
        long index = offset / AgeFormat.CHUNK;
        int skip = (int) (offset % AgeFormat.CHUNK);
        if (raw instanceof FileChannelInputStream local) {
          DecryptingInputStream d = DecryptingInputStream.fromChannel(local.channel(), h, key, index, skip, name);
          handedOver = true;
          return d;
        }
        if (offset == 0) {
          handedOver = true;
          return new DecryptingInputStream(in, key, 0, 0, -1, name);
        }
        return new DecryptingInputStream(new BufferedInputStream(raw0.open(h.chunkOffset(index)), READ_BUFFER), key,
            index, skip, -1, name);
      } finally {
        Arrays.fill(key, (byte) 0); // the stream's cipher keeps a copy of its own, freed when the stream closes
      }
    } finally {
      if (!handedOver) closeEarly(raw);
    }
  }

  /** Closes a stream read only in part; an S3 response is aborted rather than drained to its end. */
  private static void closeEarly(InputStream in) {
    try {
      if (in instanceof software.amazon.awssdk.http.Abortable a) a.abort();
      in.close();
    } catch (IOException | RuntimeException ignored) {
      // only the part read was wanted
    }
  }

  // ---- writes ----

  @Override
  public LtxFileMeta writeFile(int level, LtxFileInfo info, InputStream data, long size) throws IOException {
    if (detectsOnly()) return delegate.writeFile(level, info, data, size);
    if (writers.isEmpty()) {
      throw new IOException("replica " + delegate.location() + " is encrypted for reading only here: give age "
          + "recipients to write to it");
    }
    byte[] fileKey = AgeFormat.randomBytes(16);
    byte[] header = AgeFormat.writeHeader(fileKey, writers);
    EncryptingInputStream enc = new EncryptingInputStream(data, size, header, fileKey);
    LtxFileMeta stored = delegate.writeFile(level, opaque(info), enc, enc.size());
    LtxFileMeta meta = LtxFileMeta.of(level, info, size, stored.createdAt());
    if (decrypts()) described.put(key(level, stored.range()), new Described(enc.size(), stored.createdAt(), meta));
    return meta;
  }

  /** What a backend may store beside the ciphertext (S3 metadata): TXIDs and timestamp, nothing of the pages. */
  private static LtxFileInfo opaque(LtxFileInfo info) {
    LtxHeader h = info.header();
    return new LtxFileInfo(LtxHeader.of(0, 0, 0, h.minTxid(), h.maxTxid(), h.timestamp(), 0),
        new LtxTrailer(0, 0), -1);
  }

  @Override
  public void deleteFiles(int level, Collection<TxidRange> ranges) throws IOException {
    delegate.deleteFiles(level, ranges);
    for (TxidRange r : ranges) described.remove(key(level, r));
  }

  @Override
  public List<String> listChildren() throws IOException {
    return delegate.listChildren();
  }

  @Override
  public ReplicaClient child(String name) {
    return new AgeReplicaClient(delegate.child(name), keys, writers, readers);
  }

  @Override
  public void close() throws IOException {
    synchronized (fileKeys) {
      for (byte[] k : fileKeys.values()) Arrays.fill(k, (byte) 0);
      fileKeys.clear();
    }
    delegate.close();
  }

  @Override
  public String toString() {
    return "AgeReplicaClient[" + delegate.location() + ", " + keys + "]";
  }
}
