#!/usr/bin/env bash
# vendor-portal-assets.sh: vendor the web portal's browser assets into
# internal/portal/assets/vendor/ so the portal works without any CDN.
#
# Same pinning, verification and idempotence as scripts/vendor-assets.sh,
# which does the work; this file only names the files and their sha256.
# The portal's own script and styles (internal/portal/assets/portal.*) are
# hand-written and not fetched. Pass -f to fetch even when up to date.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# local name | package@version | path inside the npm tarball | sha256
VENDOR_MANIFEST='
water.light.min.css|water.css@2.1.1|package/out/light.min.css|9884f007fe7aebf13435f9b16361ef8c26d257b5bf7da9004fb97693fb81946d
LICENSE.water.css|water.css@2.1.1|package/LICENSE.md|c735ac00393aaf00f7196482f728a9d3ff7ac401b241df67b16ea91dd45b76e8
'
VENDOR_DEST="$root/internal/portal/assets/vendor" VENDOR_MANIFEST="$VENDOR_MANIFEST" VENDOR_NOTE="" \
	VENDOR_SCRIPT=vendor-portal-assets.sh exec "$root/scripts/vendor-assets.sh" "$@"
