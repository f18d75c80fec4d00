#!/usr/bin/env bash
# vendor-assets.sh: vendor the GraphiQL playground's browser assets into
# internal/playground/assets/ so the page works without any CDN.
#
# It fetches pinned npm tarballs with `npm pack`, extracts the few files the
# page loads, checks each one against the sha256 pinned below and writes
# assets/VERSIONS. Running it again is harmless: when every file is already in
# place with the pinned hash it changes nothing and fetches nothing (pass -f to
# fetch anyway). Any hash mismatch aborts with a non-zero status and leaves the
# existing assets untouched.
#
# To upgrade a package: change its version below, run with -f, read the
# mismatch report, review the new upstream files, then pin the new hashes.
# Stay on graphiql 4.x: graphiql 5 ships no UMD build.
#
# Other asset sets (scripts/vendor-portal-assets.sh) run this script with
# VENDOR_DEST, VENDOR_MANIFEST, VENDOR_NOTE and VENDOR_SCRIPT set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="${VENDOR_DEST:-$root/internal/playground/assets}"

force=0
case "${1:-}" in
-f | --force) force=1 ;;
"") ;;
*)
	echo "usage: $0 [-f|--force]" >&2
	exit 2
	;;
esac

# One line per vendored file:
#   local name | package@version | path inside the npm tarball | sha256
# The sha256 of the four core files equals the SRI that gqlgen's playground
# pins for the same versions on the CDN.
manifest=${VENDOR_MANIFEST:-'
graphiql.min.js|graphiql@4.1.2|package/graphiql.min.js|867226ba8af5ce7949903fc53932f78dac9f4bfc6cc8da0fd3869b8bc6c5256b
graphiql.min.css|graphiql@4.1.2|package/graphiql.min.css|30487e07635d312a63f647b140d37740a73c53332b0975bf4b1fe985ca6ec885
LICENSE.graphiql|graphiql@4.1.2|package/LICENSE|4b18fbe55c4e8f9169cb702be138f4d858a2dad920c39857204ffdc9c1c9fdc4
react.production.min.js|react@18.2.0|package/umd/react.production.min.js|4b4969fa4ef3594324da2c6d78ce8766fbbc2fd121fff395aedf997db0a99a06
LICENSE.react|react@18.2.0|package/LICENSE|52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85
react-dom.production.min.js|react-dom@18.2.0|package/umd/react-dom.production.min.js|21758ed084cd0e37e735722ee4f3957ea960628a29dfa6c3ce1a1d47a2d6e4f7
graphiql-plugin-explorer.umd.js|@graphiql/plugin-explorer@4.0.6|package/dist/index.umd.js|50cf2c58e4b45daf722d8f39aba0a5874a45e2aa715fe4ce709e357e5102a81b
graphiql-plugin-explorer.css|@graphiql/plugin-explorer@4.0.6|package/dist/style.css|68909a4ae23bfadfc4591acb4e2b3c8d4f44153b9ae7fa3b7e7c319eba310ef1
'}
note=${VENDOR_NOTE-"# @graphiql/plugin-explorer ships no LICENSE file; its package.json declares MIT."}

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

entries() { printf '%s\n' "$manifest" | sed '/^$/d'; }

# write_versions DIR: the VERSIONS file describing the pinned files.
write_versions() {
	{
		echo "# Vendored by scripts/${VENDOR_SCRIPT:-vendor-assets.sh} from the npm registry; do not edit by hand."
		[[ -z "$note" ]] || echo "$note"
		echo "# file	package@version	path in tarball	sha256"
		entries | while IFS='|' read -r name pkg path sum; do
			printf '%s\t%s\t%s\t%s\n' "$name" "$pkg" "$path" "$sum"
		done
	} >"$1/VERSIONS"
}

# up_to_date: every file present with its pinned hash, and VERSIONS current.
up_to_date() {
	local name pkg path sum tmpv
	while IFS='|' read -r name pkg path sum; do
		[[ -f "$dest/$name" ]] || return 1
		[[ "$(sha256 "$dest/$name")" == "$sum" ]] || return 1
	done < <(entries)
	[[ -f "$dest/VERSIONS" ]] || return 1
	tmpv=$(mktemp -d)
	write_versions "$tmpv"
	cmp -s "$tmpv/VERSIONS" "$dest/VERSIONS" || {
		rm -rf "$tmpv"
		return 1
	}
	rm -rf "$tmpv"
}

if [[ $force -eq 0 ]] && up_to_date; then
	echo "vendor-assets: $dest is up to date"
	exit 0
fi

command -v npm >/dev/null 2>&1 || {
	echo "vendor-assets: npm is required" >&2
	exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"

# Fetch each package once.
declare -A tarball=()
while IFS='|' read -r name pkg path sum; do
	[[ -n "${tarball[$pkg]:-}" ]] && continue
	echo "vendor-assets: npm pack $pkg"
	file=$(cd "$work" && npm pack --silent --pack-destination "$work" "$pkg" | tail -n 1)
	[[ -f "$work/$file" ]] || {
		echo "vendor-assets: npm pack $pkg produced no tarball" >&2
		exit 1
	}
	tarball[$pkg]="$work/$file"
done < <(entries)

# Extract and verify every file before touching the destination.
failed=0
while IFS='|' read -r name pkg path sum; do
	x="$work/x/$name"
	mkdir -p "$x"
	tar -xzf "${tarball[$pkg]}" -C "$x" "$path"
	cp "$x/$path" "$work/out/$name"
	got=$(sha256 "$work/out/$name")
	if [[ "$got" != "$sum" ]]; then
		echo "vendor-assets: SHA256 MISMATCH for $name ($pkg $path)" >&2
		echo "  want $sum" >&2
		echo "  got  $got" >&2
		failed=1
	fi
done < <(entries)
if [[ $failed -ne 0 ]]; then
	echo "vendor-assets: refusing to install unverified assets; $dest unchanged" >&2
	exit 1
fi

mkdir -p "$dest"
while IFS='|' read -r name pkg path sum; do
	cp "$work/out/$name" "$dest/$name"
	chmod 0644 "$dest/$name"
done < <(entries)
write_versions "$dest"
echo "vendor-assets: wrote $(entries | wc -l | tr -d ' ') files and VERSIONS to $dest"
