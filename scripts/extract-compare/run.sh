#!/bin/sh
# Runs the ioc-extractor npm package on the extraction corpus and records its
# output, which TestExtractCorpusComparison (internal/indicator) scores
# against the same expected sets as Extract. Needs node and the npm registry;
# installs into this folder's node_modules (not committed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"
npm install --no-audit --no-fund --silent
node compare.mjs "$root/internal/indicator/testdata/extract" > "$root/internal/indicator/testdata/extract-compare/ioc-extractor.json"
echo "wrote internal/indicator/testdata/extract-compare/ioc-extractor.json; now: go test -run TestExtractCorpusComparison -v ./internal/indicator/"
