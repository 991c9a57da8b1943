#!/usr/bin/env bash
# The README's two commands on a "fresh machine": a clean clone of this checkout's HEAD in a new
# folder, a PATH with every tool of this machine except Chromium, an empty HOME, npm cache and
# TMPDIR (so the browser tests unpack their npm Chromium anew). Then `npm install && npm run demo`
# and `npm test`.
#
#   scripts/fresh-clone.sh                      everything
#   scripts/fresh-clone.sh path/to/a.test.ts    `npm test -- <files>`: only those test files
#
# FRESH_NPM_CACHE=DIR reuses an npm cache (faster; the default is an empty one, as on a new machine).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/beehive-fresh-XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone -q --no-hardlinks "$src" "$work/beehive"

mkdir -p "$work/bin" "$work/home" "$work/tmp"
# As a clone anywhere else would be: readable by the `postgres` user the embedded PostgreSQL runs
# as when started by root (mktemp makes 0700 folders).
chmod 755 "$work"
chmod 1777 "$work/tmp"
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    n=${f##*/}
    case "$n" in *chrom*) continue ;; esac
    [ -e "$work/bin/$n" ] || ln -s "$f" "$work/bin/$n"
  done
done
export PATH="$work/bin" HOME="$work/home" TMPDIR="$work/tmp" npm_config_cache="${FRESH_NPM_CACHE:-$work/npm-cache}"
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  echo "fresh-clone: a chromium is still on PATH" >&2
  exit 1
fi
cd "$work/beehive"
echo "fresh-clone: $(git log -1 --format='%h %s') in $work/beehive, no chromium on PATH"
npm install --no-audit --no-fund
npm run demo
if [ $# -gt 0 ]; then npm test -- "$@"; else npm test; fi
echo "fresh-clone: passed"
