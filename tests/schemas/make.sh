#!/usr/bin/env bash
# Remake the stored workspace of one past schema version with the code of that version:
#   tests/schemas/make.sh VERSION COMMIT [POSTGRES_URL]
# It checks COMMIT out beside the repository, records tests/schemas/fixture.py's workspace
# with that code into tests/schemas/vVERSION/ (SQLite), and, given the URL of an empty
# PostgreSQL database, records it there too and keeps a pg_dump of it as postgres.sql.
# A stored version is made once, when the next schema replaces it, and never remade.
set -euo pipefail
version=$1 commit=$2 pg_url=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/tests/schemas/v$version
tree=$(mktemp -d)/raysweep-v$version
trap 'git -C "$root" worktree remove --force "$tree"' EXIT
git -C "$root" worktree add --detach "$tree" "$commit" >/dev/null
rm -rf "$out" && mkdir -p "$out"
# The workspace is made at a fixed path, so the file URIs in the records are the same on
# every machine that remakes it; then it is copied into the repository.
work=/tmp/raysweep-schema-v$version
rm -rf "$work"
(cd "$tree" && PYTHONPATH="$tree" python "$root/tests/schemas/fixture.py" make "$work/sqlite")
cp -r "$work/sqlite" "$out/sqlite"
if [ -n "$pg_url" ]; then
  (cd "$tree" && PYTHONPATH="$tree" python "$root/tests/schemas/fixture.py" make \
    "$work/postgres" --tracking-uri "$pg_url")
  cp -r "$work/postgres" "$out/postgres"
  pg_dump --no-owner --no-privileges --inserts "$pg_url" | grep -v '^\\' > "$out/postgres/postgres.sql"
fi
echo "$commit" > "$out/COMMIT"
rm -rf "$work"
