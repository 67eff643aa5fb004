#!/usr/bin/env python3
"""VsLitestreamBench's application: a SQLite writer that is neither Strata nor Litestream.

  vs-writer.py DB paced COUNT SECONDS   COUNT single-row updates spread evenly over SECONDS
  vs-writer.py DB max SECONDS           single-row updates as fast as possible for SECONDS

Every update is its own transaction (WAL, synchronous=NORMAL, as an application run under a backup tool): it
replaces the 1,000-byte random value of a random row. Prints one JSON line: commits, seconds, commits per
second, and the commit latency p50/p99/max in milliseconds.
"""

import json
import os
import random
import sqlite3
import sys
import time


def main():
    db, mode = sys.argv[1], sys.argv[2]
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=NORMAL")
    c.execute("PRAGMA busy_timeout=5000")
    rows = c.execute("SELECT max(id) FROM t").fetchone()[0]
    rnd = random.Random(2026)
    lat = []
    if mode == "paced":
        count, seconds = int(sys.argv[3]), float(sys.argv[4])
    else:
        count, seconds = None, float(sys.argv[3])
    start = time.perf_counter()
    end = start + seconds
    i = 0
    while True:
        now = time.perf_counter()
        if count is None:
            if now >= end:
                break
        else:
            if i >= count:
                break
            due = start + i * seconds / count
            if due > now:
                time.sleep(due - now)
        t0 = time.perf_counter()
        c.execute("UPDATE t SET v = randomblob(1000), n = n + 1 WHERE id = ?", (rnd.randint(1, rows),))
        lat.append(time.perf_counter() - t0)
        i += 1
    took = time.perf_counter() - start
    c.close()
    lat.sort()
    ms = lambda q: 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0
    print(json.dumps({"commits": i, "seconds": took, "rate": i / took, "p50_ms": ms(0.5), "p99_ms": ms(0.99),
                      "max_ms": 1000 * lat[-1] if lat else 0.0}))


if __name__ == "__main__":
    main()
