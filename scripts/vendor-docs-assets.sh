#!/usr/bin/env bash
# vendor-docs-assets.sh: vendor Swagger UI, which renders /openapi.json at
# /docs, into internal/apidocs/assets/ so the page loads nothing from a CDN.
# The same procedure as vendor-assets.sh: pinned npm tarballs (`npm pack`),
# each file checked against its sha256 below before anything is replaced,
# assets/VERSIONS written; a run with everything in place changes nothing
# (-f fetches anyway).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/internal/apidocs/assets"
pkg=swagger-ui-dist@5.18.2

# local name | path inside the npm tarball | sha256
manifest='
swagger-ui-bundle.js|package/swagger-ui-bundle.js|c50b94bbc4f02394326fb7aed1f4fb693b3677f4b3d3344e0d6131808cbf281f
swagger-ui.css|package/swagger-ui.css|8f33d996025317049d4a9864f421eab2b2a247872f388026fa94c654913259e7
LICENSE.swagger-ui|package/LICENSE|cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30
NOTICE.swagger-ui|package/NOTICE|0d20d1adef18aee3f40dd258172155521ce702ac445cb5f7b7d60ed32dad2fb2
'

entries() { printf '%s\n' "$manifest" | sed '/^$/d'; }
sha256() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1 || shasum -a 256 "$1" | cut -d' ' -f1; }

versions() {
	echo "# Vendored by scripts/vendor-docs-assets.sh from the npm registry; do not edit by hand."
	echo "# file	package@version	path in tarball	sha256"
	entries | while IFS='|' read -r name path sum; do printf '%s\t%s\t%s\t%s\n' "$name" "$pkg" "$path" "$sum"; done
}

current=1
while IFS='|' read -r name path sum; do
	[[ -f "$dest/$name" && "$(sha256 "$dest/$name")" == "$sum" ]] || current=0
done < <(entries)
[[ -f "$dest/VERSIONS" ]] && cmp -s <(versions) "$dest/VERSIONS" || current=0
if [[ "${1:-}" != "-f" && $current -eq 1 ]]; then
	echo "vendor-docs-assets: $dest is up to date"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file=$(cd "$work" && npm pack --silent --pack-destination "$work" "$pkg" | tail -n 1)
tar -xzf "$work/$file" -C "$work"
failed=0
while IFS='|' read -r name path sum; do
	got=$(sha256 "$work/$path")
	if [[ "$got" != "$sum" ]]; then
		echo "vendor-docs-assets: SHA256 MISMATCH for $name ($pkg $path): want $sum, got $got" >&2
		failed=1
	fi
done < <(entries)
[[ $failed -eq 0 ]] || { echo "vendor-docs-assets: refusing unverified assets; $dest unchanged" >&2; exit 1; }
mkdir -p "$dest"
while IFS='|' read -r name path sum; do install -m 0644 "$work/$path" "$dest/$name"; done < <(entries)
versions >"$dest/VERSIONS"
echo "vendor-docs-assets: wrote $(entries | wc -l | tr -d ' ') files and VERSIONS to $dest"
