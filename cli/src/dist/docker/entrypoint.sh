#!/bin/sh
# Container entrypoint: restore the database if it is missing, then run the application under
# `strata replicate -exec` (every commit replicated while it runs; signals forwarded to it; a final sync and
# its exit code when it ends) — Litestream's pattern for an application with its database on ephemeral disk.
#   STRATA_DB       the database file (required)
#   STRATA_REPLICA  its replica URL (a path, file://, s3://…, sftp://…), or
#   STRATA_CONFIG   a config file (litestream.yml format) naming the database and its replicas instead
#   arguments       the application's command; none: replicate only
# A replica holding no backup yet (first start) is not an error: the application then creates the database.
set -eu
strata=${STRATA_BIN:-strata}
: "${STRATA_DB:?STRATA_DB: the database file}"
if [ -n "${STRATA_CONFIG:-}" ]; then
  "$strata" restore -config "$STRATA_CONFIG" -if-db-not-exists -if-replica-exists "$STRATA_DB"
  target=""
else
  : "${STRATA_REPLICA:?STRATA_REPLICA (or STRATA_CONFIG): where the database is replicated}"
  "$strata" restore -if-db-not-exists -if-replica-exists -o "$STRATA_DB" "$STRATA_REPLICA"
  target=1
fi
# The application's words, each single-quoted for -exec (which splits its value like a shell, with no expansion).
cmd=""
for word in "$@"; do
  cmd="$cmd '$(printf '%s' "$word" | sed "s/'/'\\\\''/g")'"
done
if [ -n "$target" ]; then
  if [ -n "$cmd" ]; then exec "$strata" replicate -exec "${cmd# }" "$STRATA_DB" "$STRATA_REPLICA"; fi
  exec "$strata" replicate "$STRATA_DB" "$STRATA_REPLICA"
fi
if [ -n "$cmd" ]; then exec "$strata" replicate -config "$STRATA_CONFIG" -exec "${cmd# }"; fi
exec "$strata" replicate -config "$STRATA_CONFIG"
