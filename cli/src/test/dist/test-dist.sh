#!/usr/bin/env bash
# The distribution, end to end (run by DistTest after `package`, or by hand: cli/src/test/dist/test-dist.sh):
#  1. bin/dist --no-build builds the tarball and the .deb from cli/target;
#  2. the tarball, unpacked elsewhere, runs in a clean environment (env -i, no JAVA_HOME, no java on PATH):
#     version, a replicate/restore round trip through a directory replica, serve answering GET /pos;
#  3. the container entrypoint (no Docker engine here: the script itself, on the unpacked tarball) restores a
#     missing database, then runs an application under replicate -exec, whose write reaches the replica;
#  4. the .deb: installed for real with dpkg -i when running as root with no other strata package installed
#     (CI): its units checked with systemd-analyze verify when there is one (systemd itself does not run here), their
#     ExecStart lines run as the strata user, then dpkg -r and dpkg -P leave nothing behind; otherwise unpacked with
#     dpkg-deb -x and checked.
# Timing is printed, never asserted.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
work=$(mktemp -d /tmp/strata-dist-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "bin/dist --no-build"
start=$(date +%s)
"$root/bin/dist" --no-build
echo "built in $(( $(date +%s) - start )) s"
tarball=$(ls "$root"/cli/target/dist/strata-*-linux-x64.tar.gz)
deb=$(ls "$root"/cli/target/dist/strata_*_amd64.deb)
echo "tarball: $(du -h "$tarball" | cut -f1) ($tarball); unpacked: $(du -sh "$root"/cli/target/dist/strata-*/ | cut -f1)"

step "tarball in a clean environment"
mkdir -p "$work/opt" "$work/tools"
tar -C "$work/opt" -xzf "$tarball"
home=$(ls -d "$work"/opt/strata-*)
# PATH holds only what the launcher and this test's commands need: no java
for t in readlink sh sqlite3 sleep cat sed printf; do ln -s "$(command -v "$t")" "$work/tools/$t"; done
[ ! -e "$work/tools/java" ] || fail "java on the test PATH"
ln -s "$home/bin/strata" "$work/tools/strata"   # through a symlink, as /usr/bin/strata is
run() { env -i PATH="$work/tools" HOME="$work" TMPDIR="$work" "$@"; }
out=$(run strata version)
echo "$out"
[[ "$out" == "strata "* ]] || fail "version printed: $out"
run strata --help | grep -q "^Usage: strata" || fail "--help"

db="$work/app.db"
sqlite3 "$db" "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
  WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 2000) INSERT INTO t(v) SELECT hex(randomblob(32)) FROM r;" >/dev/null
# replicate while a child writes, then exits: strata makes a final sync and exits with its code
run strata replicate -exec "sh -c 'sleep 1; sqlite3 $db \"INSERT INTO t(v) VALUES (1)\"; sleep 1'" "$db" "$work/replica"
run strata restore -o "$work/restored.db" "$work/replica"
want=$(sqlite3 "$db" "SELECT count(*), sum(length(v)) FROM t")
got=$(sqlite3 "$work/restored.db" "SELECT count(*), sum(length(v)) FROM t")
[ "$want" = "$got" ] || fail "restored $got, want $want"
echo "round trip: $got"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s%N)
# env itself in the background, not the run function: $! is then the server's own PID (env and the launcher exec),
# where a function's subshell would be killed alone and leave the server running after the test.
env -i PATH="$work/tools" HOME="$work" TMPDIR="$work" STRATA_ACCESS_LOG=off strata serve --data "$work/server" \
  --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pids+=($!)
ok=0
for _ in $(seq 600); do
  if curl -sf -o /dev/null -H "Authorization: cluster test" "http://127.0.0.1:$port/pos"; then ok=1; break; fi
  sleep 0.05
done
[ "$ok" = 1 ] || { cat "$work/serve.log"; fail "serve did not answer /pos"; }
echo "serve answered /pos $(( ($(date +%s%N) - start) / 1000000 )) ms after its start"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

step "container entrypoint (without Docker)"
rm -f "$db" "$db-wal" "$db-shm"
run STRATA_DB="$db" STRATA_REPLICA="$work/replica" "$root/cli/src/dist/docker/entrypoint.sh" \
  sqlite3 "$db" "INSERT INTO t(v) VALUES ('from the app''s first start')"
[ "$(sqlite3 "$db" "SELECT count(*) FROM t")" = 2002 ] || fail "entrypoint: the database was not restored first"
run strata restore -o "$work/again.db" "$work/replica"
[ "$(sqlite3 "$work/again.db" "SELECT v FROM t ORDER BY id DESC LIMIT 1")" = "from the app's first start" ] \
  || fail "entrypoint: the app's write did not reach the replica"
echo "restored, ran the app, replicated its write"

step ".deb"
dpkg-deb -I "$deb" | sed -n '/Package:/,/Description:/p'
dpkg-deb -c "$deb" | grep -q '\./usr/bin/strata -> /opt/strata/bin/strata' || fail "no /usr/bin/strata link"
installed=0
if [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null && ! dpkg -s strata >/dev/null 2>&1 && [ ! -e /opt/strata ]; then
  installed=1
  dpkg -i "$deb"
  [ "$(readlink -f /usr/bin/strata)" = /opt/strata/bin/strata ] || fail "/usr/bin/strata"
  getent passwd strata >/dev/null || fail "no strata user"
  dpkg-query -W -f='${Conffiles}\n' strata | grep -q /etc/strata.yml || fail "/etc/strata.yml is not a conffile"
  env -i PATH=/usr/bin:/bin /usr/bin/strata version
  if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no /lib/systemd/system/strata.service /lib/systemd/system/strata-server.service
    echo "units verified (systemd-analyze verify)"
  fi
  # the units' ExecStart lines, run as they would be (systemd does not run here): replicate with the sample config
  # (no databases: exit 1 with a message), serve answering /pos
  set +e
  msg=$(runuser -u strata -- /usr/bin/strata replicate -config /etc/strata.yml 2>&1); code=$?
  set -e
  echo "replicate -config /etc/strata.yml: exit $code: $msg"
  [ "$code" = 1 ] && [[ "$msg" == *"no databases"* ]] || fail "strata.service's ExecStart"
  mkdir -p "$work/srv" && chown strata:strata "$work/srv" && chmod 755 "$work"
  runuser -u strata -- env STRATA_ACCESS_LOG=off LFSB_BIND="127.0.0.1:$port" /usr/bin/strata serve --data "$work/srv/data" \
    >"$work/serve2.log" 2>&1 &
  pids+=($!)
  ok=0
  for _ in $(seq 600); do
    if curl -sf -o /dev/null -H "Authorization: cluster test" "http://127.0.0.1:$port/pos"; then ok=1; break; fi
    sleep 0.05
  done
  kill "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null || true
  [ "$ok" = 1 ] || { cat "$work/serve2.log"; fail "strata-server.service's ExecStart"; }
  dpkg -r strata
  [ ! -e /usr/bin/strata ] && [ ! -e /opt/strata ] || fail "dpkg -r left files"
  [ -f /etc/strata.yml ] || fail "dpkg -r removed the conffile"
  dpkg -P strata
  [ ! -e /etc/strata.yml ] || fail "dpkg -P left /etc/strata.yml"
  ! getent passwd strata >/dev/null || fail "dpkg -P left the strata user"
  ! getent group strata >/dev/null || fail "dpkg -P left the strata group"
  [ ! -e /var/lib/strata-server ] || fail "dpkg -P left /var/lib/strata-server"
  echo "dpkg -i, -r, -P: clean"
else
  dpkg-deb -x "$deb" "$work/deb"
  env -i PATH="$work/tools" "$work/deb/opt/strata/bin/strata" version
  [ -f "$work/deb/etc/strata.yml" ] && [ -f "$work/deb/lib/systemd/system/strata.service" ] || fail "deb contents"
  if command -v systemd-analyze >/dev/null; then
    # the units' syntax and settings; their ExecStart's /usr/bin/strata is not installed here
    for u in strata.service strata-server.service; do
      systemd-analyze verify --man=no "$work/deb/lib/systemd/system/$u" 2>&1 \
        | grep -v "/usr/bin/strata\|sysinit.target" | tee "$work/verify.txt" || true
      [ ! -s "$work/verify.txt" ] || fail "systemd-analyze verify $u"
    done
  fi
  echo "not installed (needs root and no strata package): unpacked and checked instead"
fi
echo "dist test: OK (deb installed: $installed)"
