#!/usr/bin/env bash
# Restore time of a 64 MiB database from a directory replica, plain and age-encrypted (same run).
set -euo pipefail
# Usage: bench/age-restore.sh (needs sqlite3 and age). Works in a temporary directory, removed at the end.
S="$(cd "$(dirname "$0")/.." && pwd)/bin/strata"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; cd "$work"
age-keygen -o key.txt 2>/dev/null; R=$(age-keygen -y key.txt)
sqlite3 db.sqlite "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 16000) INSERT INTO t(v) SELECT randomblob(2000)||zeroblob(2000) FROM c;" >/dev/null
ls -l db.sqlite | awk '{print "database bytes:", $5}'
for target in plain "file://$PWD/enc?age-recipient=$R"; do
  rm -rf .db.sqlite-strata; STRATA_AOT=0 $S replicate db.sqlite "$target" 2>/dev/null & pid=$!
  d=${target%%\?*}; d=${d#file://}
  for i in $(seq 1 300); do [ -d "$d/9" ] && [ -n "$(ls "$d/9")" ] && break; sleep 0.2; done
  sleep 1; kill $pid; wait $pid || true
done
du -sb plain enc
for n in 1 2 3; do
  /usr/bin/time -f "plain restore: %e s" $S restore --integrity-check none -o out-plain-$n.db plain >/dev/null
  /usr/bin/time -f "age restore:   %e s" $S restore --integrity-check none --age-identity key.txt -o out-enc-$n.db enc >/dev/null
done
cmp out-plain-1.db out-enc-1.db && echo "identical outputs"
