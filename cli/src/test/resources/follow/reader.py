# Reader on the follower: one long-lived connection, a read transaction per iteration reading the row count and
# the total written in the same commit; a quick_check every 25 reads. Runs until STOP exists.
# Usage: reader.py DB ro|rw STOP OUT
import os, sqlite3, sys, time

db, mode, stop, outpath = sys.argv[1:5]
uri = "file:%s?mode=%s" % (db, mode)
c = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
i = 0
with open(outpath, "w") as out:
    while not os.path.exists(stop):
        try:
            t0 = time.monotonic()
            c.execute("BEGIN")
            n = c.execute("SELECT count(*) FROM t").fetchone()[0]
            total = c.execute("SELECT total FROM s").fetchone()[0]
            c.execute("COMMIT")
            out.write("read %d %d %.3f\n" % (n, total, (time.monotonic() - t0) * 1000))
            i += 1
            if i % 25 == 0:
                out.write("check %s\n" % c.execute("PRAGMA quick_check").fetchone()[0])
        except sqlite3.Error as e:
            out.write("error %.3f %s\n" % (time.time(), e))
            try:
                c.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        time.sleep(0.005)
