#!/usr/bin/env bash
# Proves a newcomer's clone works: clones HEAD (committed work only) into an empty temporary folder with nothing
# beside it (no ../shared, no build output, no node_modules) and runs `make test` there. A test that reads a file
# outside the repository, or a tool the Makefile does not install, fails here before it fails a user.
set -euo pipefail
top=$(git rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-fresh-XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-local "$top" "$work/gatehouse"
cd "$work/gatehouse"
echo "== fresh clone of $(git rev-parse --short HEAD) in $work/gatehouse"
make test ${NODE:+NODE="$NODE"}
