# Writes rows into a SQLite database in small transactions, as an application in another process would.
# usage: writer.py DB COUNT DELAY_SECONDS [PAYLOAD_BYTES [AUTOCHECKPOINT_PAGES]]
import sqlite3, sys, time

db, count, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
payload = "x" * (int(sys.argv[4]) if len(sys.argv) > 4 else 100)
con = sqlite3.connect(db, timeout=30, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
if len(sys.argv) > 5:
    con.execute("PRAGMA wal_autocheckpoint=%d" % int(sys.argv[5]))
con.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
for i in range(count):
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO t(v) VALUES (?)", ("row %d %s" % (i, payload),))
    con.execute("COMMIT")
    if delay:
        time.sleep(delay)
con.close()
print("done", flush=True)
