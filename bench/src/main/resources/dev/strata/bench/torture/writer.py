#!/usr/bin/env python3
"""The torture harness's writer and oracle: a SQLite application that is not Strata.

Two modes:

  writer.py write DB ORACLE SEED
      Creates DB (WAL mode) if needed and commits transactions of varied shape when told to on stdin, one
      command per line, answering each with one JSON line on stdout:
        tx [N]            commit N (default 1) transactions whose shape comes from the seed
        checkpoint MODE   PRAGMA wal_checkpoint(PASSIVE|FULL|RESTART|TRUNCATE)
        vacuum            VACUUM
        replace           replace the database file underneath every other process (rename over it, remove
                          -wal and -shm), with a copy holding the next commit, possibly at another page size
        stats             counters and the slowest commit
        check             recompute the digest from scratch and compare it with the last oracle entry
        quit
      After every commit it appends the oracle line "C seq t0_us t1_us digest kind" to ORACLE and fsyncs it:
      t0 is just before COMMIT, t1 just after; digest is the content digest below of the database as committed.
      Checkpoints, VACUUMs and replacements also append event lines "E seq t_us what detail".
      Besides the commands, the writer runs its own checkpoints and VACUUMs on a schedule drawn from the seed.

  writer.py digest FILE [quick|full]
      Prints {"integrity": "ok"|<first problem>, "seq": N, "digest": hex, ...} for a database file that no
      process is writing (a restored file): PRAGMA quick_check or integrity_check, then the content digest.

The content digest is SHA-256 over a canonical form of the database's content, independent of its physical
layout (page size, free pages, VACUUM): every sqlite_master row (type, name, tbl_name, sql) ordered by type and
name, then for every table in name order its rows ordered by rowid (or by primary key for WITHOUT ROWID
tables), every value tagged with its storage class. Every transaction also sets torture_meta.seq to its commit
sequence number, so a database names the commit it claims to be and no two commits share a digest.

The writer keeps one digest per table and recomputes only the tables a transaction touched; every 64 commits it
recomputes everything from scratch and stops with an error if the two disagree.
"""

import hashlib
import json
import os
import random
import sqlite3
import sys
import time

DIGEST_TAG = b"strata-torture-digest-v1\n"
CHECKPOINT_MODES = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")
PAGE_SIZES = (1024, 4096, 4096, 8192, 16384)
MAX_DB_BYTES = 6 * 1024 * 1024
BUSY_TIMEOUT_MS = 10000
FULL_CHECK_EVERY = 64


# ---------------------------------------------------------------------------------------------------------------
# Content digest (shared by both modes)

def encode_value(v):
    if v is None:
        return b"N;"
    if isinstance(v, int):
        return b"I" + str(v).encode() + b";"
    if isinstance(v, float):
        return b"F" + v.hex().encode() + b";"
    if isinstance(v, str):
        b = v.encode("utf-8", "surrogatepass")
        return b"T" + str(len(b)).encode() + b":" + b
    if isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        return b"B" + str(len(b)).encode() + b":" + b
    raise TypeError("unexpected SQLite value %r" % (v,))


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def schema_rows(conn):
    return conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def table_names(conn):
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name")]


def table_digest(conn, name):
    """SHA-256 of one table's rows in canonical order."""
    q = quote_ident(name)
    without_rowid = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()[0]
    h = hashlib.sha256()
    if "WITHOUT ROWID" in (without_rowid or "").upper():
        pk = [r[1] for r in sorted(
            (r for r in conn.execute("PRAGMA table_info(%s)" % q) if r[5] > 0), key=lambda r: r[5])]
        order = ", ".join(quote_ident(c) for c in pk)
        cur = conn.execute("SELECT * FROM %s ORDER BY %s" % (q, order))
    else:
        cur = conn.execute("SELECT rowid, * FROM %s ORDER BY rowid" % q)
    for row in cur:
        for v in row:
            h.update(encode_value(v))
        h.update(b"\n")
    return h.digest()


def combine_digest(schema, tables):
    """The database digest from its schema rows and {table name: table digest}."""
    h = hashlib.sha256()
    h.update(DIGEST_TAG)
    for row in schema:
        for v in row:
            h.update(encode_value(v))
        h.update(b"\n")
    h.update(b"--\n")
    for name in sorted(tables):
        h.update(encode_value(name))
        h.update(tables[name])
    return h.hexdigest()


def full_digest(conn):
    return combine_digest(schema_rows(conn), {t: table_digest(conn, t) for t in table_names(conn)})


def read_seq(conn):
    try:
        row = conn.execute("SELECT v FROM torture_meta WHERE k = 'seq'").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def digest_mode(path, check):
    if not os.path.exists(path):
        print(json.dumps({"integrity": "no such file: " + path}))
        return 2
    # immutable=1: a restored file has no -wal/-shm and nobody writes it; do not create any.
    conn = sqlite3.connect("file:%s?immutable=1" % path, uri=True, isolation_level=None)
    out = {}
    try:
        pragma = "integrity_check" if check == "full" else "quick_check"
        problems = [r[0] for r in conn.execute("PRAGMA %s" % pragma)]
        out["integrity"] = "ok" if problems == ["ok"] else "; ".join(problems[:5])
        out["page_size"] = conn.execute("PRAGMA page_size").fetchone()[0]
        out["page_count"] = conn.execute("PRAGMA page_count").fetchone()[0]
        out["seq"] = read_seq(conn)
        out["digest"] = full_digest(conn)
    except sqlite3.DatabaseError as e:
        out.setdefault("integrity", "error: %s" % e)
        out["error"] = str(e)
    finally:
        conn.close()
    print(json.dumps(out))
    return 0


# ---------------------------------------------------------------------------------------------------------------
# Writer mode

def now_us():
    return time.time_ns() // 1000


class Writer:
    def __init__(self, db, oracle_path, seed):
        self.db = db
        self.rng = random.Random(seed)
        self.oracle = open(oracle_path, "a", buffering=1)
        self.stats = {"commits": 0, "checkpoints": {}, "checkpoint_busy": 0, "vacuums": 0, "replacements": 0,
                      "busy_errors": 0, "reconnects": 0, "max_commit_ms": 0.0, "max_commit_kind": None,
                      "max_checkpoint_ms": 0.0, "max_checkpoint_mode": None, "kinds": {}}
        self.table_cache = {}
        self.last_digest = None
        self.next_table = 0
        fresh = not os.path.exists(db)
        self.conn = self.open()
        if fresh:
            page_size = self.rng.choice(PAGE_SIZES)
            self.conn.execute("PRAGMA page_size = %d" % page_size)
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.seq = 0
            self.transaction("create", self.create_schema)
        else:
            self.seq = read_seq(self.conn) or 0
            self.last_digest = full_digest(self.conn)
            self.event("open", "seq=%d" % self.seq)
        names = table_names(self.conn)
        self.next_table = 1 + max([int(n[2:]) for n in names if n.startswith("t_") and n[2:].isdigit()] or [0])

    def open(self):
        conn = sqlite3.connect(self.db, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA busy_timeout = %d" % BUSY_TIMEOUT_MS)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError("could not switch %s to WAL mode (got %s)" % (self.db, mode))
        return conn

    # -- oracle ------------------------------------------------------------------------------------------------

    def append(self, line):
        self.oracle.write(line + "\n")
        self.oracle.flush()
        os.fsync(self.oracle.fileno())

    def event(self, what, detail=""):
        self.append("E\t%d\t%d\t%s\t%s" % (self.seq, now_us(), what, detail))

    def digest(self, touched):
        """Digest after a commit, recomputing only the touched tables (None: all)."""
        names = table_names(self.conn)
        for t in list(self.table_cache):
            if t not in names:
                del self.table_cache[t]
        for t in names:
            if touched is None or t in touched or t not in self.table_cache:
                self.table_cache[t] = table_digest(self.conn, t)
        d = combine_digest(schema_rows(self.conn), self.table_cache)
        if self.seq % FULL_CHECK_EVERY == 0:
            full = full_digest(self.conn)
            if full != d:
                raise RuntimeError("writer digest cache disagrees with a full digest at seq %d" % self.seq)
        return d

    # -- transactions ------------------------------------------------------------------------------------------

    def transaction(self, kind, body):
        """Runs body(cur) -> set of touched tables in one write transaction that also bumps the sequence."""
        c = self.conn
        started = time.monotonic()
        c.execute("BEGIN IMMEDIATE")
        try:
            touched = set(body(c))
            c.execute("INSERT OR REPLACE INTO torture_meta(k, v) VALUES ('seq', ?)", (self.seq + 1,))
            touched.add("torture_meta")
            t0 = now_us()
            c.execute("COMMIT")
            t1 = now_us()
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        self.seq += 1
        elapsed_ms = (time.monotonic() - started) * 1000
        d = self.digest(touched)
        self.append("C\t%d\t%d\t%d\t%s\t%s" % (self.seq, t0, t1, d, kind))
        self.last_digest = d
        st = self.stats
        st["commits"] += 1
        st["kinds"][kind] = st["kinds"].get(kind, 0) + 1
        if elapsed_ms > st["max_commit_ms"]:
            st["max_commit_ms"] = round(elapsed_ms, 1)
            st["max_commit_kind"] = kind
        return d

    def create_schema(self, c):
        c.execute("CREATE TABLE torture_meta (k TEXT PRIMARY KEY, v)")
        c.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, x REAL, note TEXT)")
        c.execute("CREATE INDEX rows_n ON rows(n)")
        c.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, label TEXT, data BLOB)")
        c.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
        return {"rows", "blobs", "kv"}

    def text(self, lo, hi):
        n = self.rng.randint(lo, hi)
        alphabet = "abcdefghijklmnopqrstuvwxyz 0123456789é漢"
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def value(self):
        r = self.rng.random()
        if r < 0.15:
            return None
        if r < 0.45:
            return self.rng.randint(-2 ** 63, 2 ** 63 - 1) if self.rng.random() < 0.2 else self.rng.randint(0, 1000)
        if r < 0.6:
            return self.rng.uniform(-1e6, 1e6)
        if r < 0.9:
            return self.text(0, 80)
        return self.rng.randbytes(self.rng.randint(0, 300))

    def blob(self):
        size = self.rng.choice((2000, 9000, 40000, 150000, 600000))
        size = self.rng.randint(size // 2, size)
        if self.rng.random() < 0.5:
            return self.rng.randbytes(size)  # incompressible
        chunk = self.rng.randbytes(64)
        return (chunk * (size // 64 + 1))[:size]  # compressible

    def extra_tables(self):
        return [t for t in table_names(self.conn) if t.startswith("t_")]

    def db_bytes(self):
        """Bytes in use (free pages left by deletes do not count: only VACUUM returns them)."""
        c = self.conn
        used = c.execute("PRAGMA page_count").fetchone()[0] - c.execute("PRAGMA freelist_count").fetchone()[0]
        return used * c.execute("PRAGMA page_size").fetchone()[0]

    def row_ids(self, table, limit):
        n = self.conn.execute("SELECT count(*) FROM %s" % quote_ident(table)).fetchone()[0]
        if n == 0:
            return []
        off = self.rng.randint(0, max(0, n - 1))
        return [r[0] for r in self.conn.execute(
            "SELECT rowid FROM %s ORDER BY rowid LIMIT ? OFFSET ?" % quote_ident(table), (limit, off))]

    # Each op runs inside a transaction and returns the tables it touched.

    def op_insert(self, c):
        target = self.rng.choice(["rows"] + self.extra_tables())
        cols = [r[1] for r in c.execute("PRAGMA table_info(%s)" % quote_ident(target)) if r[1] != "id"]
        n = self.rng.randint(1, 20)
        sql = "INSERT INTO %s (%s) VALUES (%s)" % (
            quote_ident(target), ", ".join(quote_ident(x) for x in cols), ", ".join("?" * len(cols)))
        for _ in range(n):
            c.execute(sql, [self.value() for _ in cols])
        return {target}

    def op_bulk(self, c):
        n = self.rng.randint(200, 3000)
        c.executemany("INSERT INTO rows (name, n, x, note) VALUES (?, ?, ?, ?)",
                      [(self.text(3, 30), self.rng.randint(0, 10 ** 6), self.rng.random(), self.text(0, 120))
                       for _ in range(n)])
        return {"rows"}

    def op_update(self, c):
        target = self.rng.choice(["rows"] + self.extra_tables())
        cols = [r[1] for r in c.execute("PRAGMA table_info(%s)" % quote_ident(target)) if r[1] != "id"]
        if not cols:
            return set()
        for rowid in self.row_ids(target, self.rng.randint(1, 40)):
            col = self.rng.choice(cols)
            c.execute("UPDATE %s SET %s = ? WHERE rowid = ?" % (quote_ident(target), quote_ident(col)),
                      (self.value(), rowid))
        return {target}

    def op_delete(self, c):
        target = self.rng.choice(["rows", "rows", "blobs"] + self.extra_tables())
        ids = self.row_ids(target, self.rng.randint(1, 400 if target == "rows" else 5))
        c.executemany("DELETE FROM %s WHERE rowid = ?" % quote_ident(target), [(i,) for i in ids])
        return {target}

    def op_blob(self, c):
        r = self.rng.random()
        ids = self.row_ids("blobs", 1)
        if r < 0.6 or not ids:
            c.execute("INSERT INTO blobs (label, data) VALUES (?, ?)", (self.text(1, 20), self.blob()))
        elif r < 0.85:
            c.execute("UPDATE blobs SET data = ? WHERE id = ?", (self.blob(), ids[0]))
        else:
            c.execute("DELETE FROM blobs WHERE id = ?", (ids[0],))
        return {"blobs"}

    def op_kv(self, c):
        for _ in range(self.rng.randint(1, 30)):
            key = "k%04d" % self.rng.randint(0, 2000)
            if self.rng.random() < 0.2:
                c.execute("DELETE FROM kv WHERE k = ?", (key,))
            else:
                c.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, self.value()))
        return {"kv"}

    def op_schema(self, c):
        extra = self.extra_tables()
        r = self.rng.random()
        if r < 0.35 or not extra:
            name = "t_%d" % self.next_table
            self.next_table += 1
            ncols = self.rng.randint(1, 6)
            types = ["INTEGER", "TEXT", "REAL", "BLOB", ""]
            cols = ", ".join("c%d %s" % (i, self.rng.choice(types)) for i in range(ncols))
            c.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, %s)" % (name, cols))
            c.executemany("INSERT INTO %s (%s) VALUES (%s)" % (
                name, ", ".join("c%d" % i for i in range(ncols)), ", ".join("?" * ncols)),
                [[self.value() for _ in range(ncols)] for _ in range(self.rng.randint(0, 200))])
            return {name}
        target = self.rng.choice(extra)
        if r < 0.55:
            c.execute("DROP TABLE %s" % quote_ident(target))
            return set()
        if r < 0.8:
            n = len(list(c.execute("PRAGMA table_info(%s)" % quote_ident(target))))
            default = self.rng.choice(["", " DEFAULT 7", " DEFAULT 'x'", " DEFAULT NULL"])
            c.execute("ALTER TABLE %s ADD COLUMN a%d TEXT%s" % (quote_ident(target), n, default))
            return {target}
        indexes = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (target,))]
        if indexes and self.rng.random() < 0.5:
            c.execute("DROP INDEX %s" % quote_ident(self.rng.choice(indexes)))
        else:
            cols = [r[1] for r in c.execute("PRAGMA table_info(%s)" % quote_ident(target)) if r[1] != "id"]
            col = self.rng.choice(cols)
            c.execute("CREATE INDEX IF NOT EXISTS %s ON %s(%s)" % (
                quote_ident("%s_%s_idx" % (target, col)), quote_ident(target), quote_ident(col)))
        return set()

    def op_shrink(self, c):
        """Keeps the database small enough for a digest per commit: drops the oldest half of a big table."""
        touched = set()
        for t in ["rows", "blobs"] + self.extra_tables():
            n = c.execute("SELECT count(*) FROM %s" % quote_ident(t)).fetchone()[0]
            if n > 50:
                c.execute("DELETE FROM %s WHERE rowid IN (SELECT rowid FROM %s ORDER BY rowid LIMIT ?)" % (
                    quote_ident(t), quote_ident(t)), (n // 2,))
                touched.add(t)
        ids = self.row_ids("blobs", 1000)
        for i in ids[: len(ids) // 2 + 1]:
            c.execute("DELETE FROM blobs WHERE id = ?", (i,))
            touched.add("blobs")
        return touched

    SHAPES = (("insert", 30), ("update", 15), ("delete", 10), ("blob", 12), ("bulk", 4), ("kv", 6),
              ("schema", 5), ("mixed", 15))

    def one_tx(self):
        if self.db_bytes() > MAX_DB_BYTES:
            kind, body = "shrink", self.op_shrink
        else:
            kind = self.rng.choices([k for k, _ in self.SHAPES], [w for _, w in self.SHAPES])[0]
            if kind == "mixed":
                ops = [getattr(self, "op_" + self.rng.choice(("insert", "update", "delete", "blob", "kv")))
                       for _ in range(self.rng.randint(2, 6))]
                body = lambda c: set().union(*(op(c) for op in ops))
            else:
                body = getattr(self, "op_" + kind)
        try:
            self.transaction(kind, body)
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                self.stats["busy_errors"] += 1
                self.event("busy", kind)
                return
            raise
        # The writer's own schedule, drawn from the seed.
        r = self.rng.random()
        if r < 0.04:
            self.checkpoint(self.rng.choice(CHECKPOINT_MODES), "schedule")
        elif r < 0.045:
            self.vacuum("schedule")
        elif r < 0.06:
            self.reconnect("schedule")

    def checkpoint(self, mode, why):
        started = time.monotonic()
        busy, log, done = self.conn.execute("PRAGMA wal_checkpoint(%s)" % mode).fetchone()
        ms = (time.monotonic() - started) * 1000
        st = self.stats
        st["checkpoints"][mode] = st["checkpoints"].get(mode, 0) + 1
        if busy:
            st["checkpoint_busy"] += 1
        if ms > st["max_checkpoint_ms"]:
            st["max_checkpoint_ms"] = round(ms, 1)
            st["max_checkpoint_mode"] = mode
        self.event("checkpoint", "%s busy=%d log=%d checkpointed=%d ms=%d by=%s" % (mode, busy, log, done, ms, why))
        return {"busy": busy, "log": log, "checkpointed": done, "ms": round(ms, 1)}

    def reconnect(self, why):
        """Closes the connection and opens a new one, as an application that connects per request does: SQLite
        unmaps the -shm and drops its locks, then maps and takes them again. While the agent runs, its connections
        keep the database open; while it is down, this close is the last one, which checkpoints and removes the WAL."""
        self.conn.close()
        self.conn = self.open()
        self.stats["reconnects"] += 1
        self.event("reconnect", "by=%s" % why)

    def vacuum(self, why):
        started = time.monotonic()
        self.conn.execute("VACUUM")
        self.stats["vacuums"] += 1
        self.event("vacuum", "ms=%d by=%s" % ((time.monotonic() - started) * 1000, why))

    def replace(self):
        """Puts a different file (same content plus the next commit, maybe another page size) in DB's place."""
        tmp = self.db + ".replacement"
        for p in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
            if os.path.exists(p):
                os.unlink(p)
        page_size = self.rng.choice(PAGE_SIZES)
        dst = sqlite3.connect(tmp, isolation_level=None)
        self.conn.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # the copy of page 1 says WAL; page size changes need DELETE
        dst.execute("PRAGMA page_size = %d" % page_size)
        dst.execute("VACUUM")  # applies the page size; the copy is in rollback mode here
        dst.execute("PRAGMA journal_mode = WAL")
        dst.execute("BEGIN IMMEDIATE")
        dst.execute("INSERT OR REPLACE INTO torture_meta(k, v) VALUES ('seq', ?)", (self.seq + 1,))
        dst.execute("INSERT OR REPLACE INTO torture_meta(k, v) VALUES ('replaced', ?)", (self.seq + 1,))
        dst.execute("COMMIT")
        dst.close()  # last connection: checkpoints and removes its WAL
        self.conn.close()
        t0 = now_us()
        os.rename(tmp, self.db)
        for suffix in ("-wal", "-shm"):
            try:
                os.unlink(self.db + suffix)
            except FileNotFoundError:
                pass
        dirfd = os.open(os.path.dirname(os.path.abspath(self.db)), os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
        t1 = now_us()
        self.conn = self.open()
        self.seq += 1
        self.table_cache = {}
        d = self.digest(None)
        self.append("C\t%d\t%d\t%d\t%s\t%s" % (self.seq, t0, t1, d, "replace"))
        self.last_digest = d
        self.event("replace", "page_size=%d" % page_size)
        self.stats["commits"] += 1
        self.stats["replacements"] += 1
        return {"seq": self.seq, "page_size": page_size}

    # -- command loop ------------------------------------------------------------------------------------------

    def serve(self):
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            cmd, args = words[0], words[1:]
            try:
                if cmd == "tx":
                    for _ in range(int(args[0]) if args else 1):
                        self.one_tx()
                    reply = {"ok": True, "seq": self.seq}
                elif cmd == "checkpoint":
                    mode = args[0].upper()
                    if mode not in CHECKPOINT_MODES:
                        raise ValueError("unknown checkpoint mode " + mode)
                    reply = {"ok": True, "seq": self.seq, **self.checkpoint(mode, "harness")}
                elif cmd == "vacuum":
                    self.vacuum("harness")
                    reply = {"ok": True, "seq": self.seq}
                elif cmd == "replace":
                    reply = {"ok": True, **self.replace()}
                elif cmd == "check":
                    full = full_digest(self.conn)
                    if full != self.last_digest:
                        raise RuntimeError("digest of commit %d was %s, a full recomputation gives %s" % (
                            self.seq, self.last_digest, full))
                    reply = {"ok": True, "seq": self.seq, "digest": full}
                elif cmd == "stats":
                    reply = {"ok": True, "seq": self.seq, **self.stats}
                elif cmd == "quit":
                    self.conn.close()
                    print(json.dumps({"ok": True, "seq": self.seq}), flush=True)
                    return 0
                else:
                    reply = {"ok": False, "error": "unknown command " + cmd}
            except Exception as e:  # answer, so the harness can report it with the seed
                reply = {"ok": False, "seq": self.seq, "error": "%s: %s" % (type(e).__name__, e)}
            print(json.dumps(reply), flush=True)
        return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "digest":
        if len(argv) not in (3, 4):
            print("usage: writer.py digest FILE [quick|full]", file=sys.stderr)
            return 2
        return digest_mode(argv[2], argv[3] if len(argv) == 4 else "quick")
    if len(argv) == 5 and argv[1] == "write":
        w = Writer(argv[2], argv[3], int(argv[4]))
        print(json.dumps({"ok": True, "seq": w.seq}), flush=True)
        return w.serve()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
