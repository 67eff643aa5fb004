# Writer on the primary: N commits of a few rows each; after each commit, appends the row count to LOG.
# Usage: writer.py DB N LOG [checkpoint]
import os, random, sqlite3, sys, time

db, n, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
checkpoint = len(sys.argv) > 4
c = sqlite3.connect(db, timeout=10, isolation_level=None)
with open(log, "a") as out:
    for i in range(n):
        c.execute("BEGIN IMMEDIATE")
        for _ in range(random.randint(1, 20)):
            c.execute("INSERT INTO t(v) VALUES (?)", (os.urandom(random.randint(10, 3000)),))
        c.execute("UPDATE s SET total = (SELECT count(*) FROM t)")
        c.execute("COMMIT")
        out.write("%d\n" % c.execute("SELECT total FROM s").fetchone()[0])
        out.flush()
        if checkpoint:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        time.sleep(0.02)
