#!/usr/bin/env bash
# The install the README documents, as CI runs it: npm pack, install the tarball into a temporary
# prefix (no registry entry needed), and run the installed phiwall on a copy of an example.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
if tar tzf "$work/$tarball" | grep -q '\.map$'; then
  echo "pack-check: the tarball ships source maps" >&2
  exit 1
fi
npm install --global --prefix "$work/prefix" --no-audit --no-fund "$work/$tarball"
installed="$work/prefix/lib/node_modules/phiwall"
test -f "$installed/$(node -p 'require("./package.json").types')" || {
  echo "pack-check: package.json types points at a file the tarball does not ship" >&2
  exit 1
}
cp -r examples/clinic "$work/clinic"
cd "$work"
./prefix/bin/phiwall connectivity clinic --format json >connectivity.json
node -e 'const c = require("./connectivity.json").connections; if (!c.length) process.exit(1); console.log(`pack-check: the installed phiwall found ${c.length} connections`)'
