#!/usr/bin/env bash
# Installs the node packages tests use (graphql-js for cmd/gadget's
# introspection test), from the lock file, when node and npm exist. Without
# node it says so in one line and leaves it to the test, which skips on a
# developer machine and fails when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=cmd/gadget/testdata/graphqljs
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "test-deps: node and npm not found: TestIntrospectionGraphQLJS will skip (apt-get install nodejs npm)" >&2
	exit 0
fi
# npm ci only when the lock file changed since the last install
stamp=$dir/node_modules/.package-lock.json
if [[ ! -f $stamp || $dir/package-lock.json -nt $stamp ]]; then
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
fi
