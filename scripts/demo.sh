#!/usr/bin/env bash
# Inspector Gadget demo, fully offline: with bin/gadget and bin/fakeintel
# from `make build` (make demo builds them, the same build make run uses),
# starts the fake intel server (recorded provider answers with realistic
# latency) and runs `gadget serve` against it with a demo database under
# ./data/demo/. Ctrl-C stops both.
#
# Environment: GADGET_ROOT_PASSWORD (default demo-password-please-change),
# GADGET_ADDR (default 127.0.0.1:8080), FAKEINTEL_ADDR (default
# 127.0.0.1:9000), FAKEINTEL_LATENCY / FAKEINTEL_JITTER (150ms / 100ms).
set -euo pipefail

cd "$(dirname "$0")/.."

FAKE_ADDR=${FAKEINTEL_ADDR:-127.0.0.1:9000}
GADGET_LISTEN=${GADGET_ADDR:-127.0.0.1:8080}
DEMO_DIR=./data/demo

if [[ -n ${GADGET_ROOT_PASSWORD:-} ]]; then
	password_note="from GADGET_ROOT_PASSWORD"
	# shellcheck disable=SC2016 # printed for the user's shell to expand
	password_arg='"password=$GADGET_ROOT_PASSWORD"'
else
	GADGET_ROOT_PASSWORD=demo-password-please-change
	password_note="$GADGET_ROOT_PASSWORD"
	password_arg="password=$GADGET_ROOT_PASSWORD"
fi

for b in bin/gadget bin/fakeintel; do
	if [[ ! -x $b ]]; then
		echo "demo: $b is missing: run make demo (it builds both)" >&2
		exit 1
	fi
done
mkdir -p "$DEMO_DIR"

fake_pid=""
gadget_pid=""
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	trap - EXIT INT TERM
	if [[ -n $gadget_pid ]] && kill -0 "$gadget_pid" 2>/dev/null; then
		kill -TERM "$gadget_pid" 2>/dev/null || true
		wait "$gadget_pid" 2>/dev/null || true
	fi
	if [[ -n $fake_pid ]] && kill -0 "$fake_pid" 2>/dev/null; then
		echo "demo: stopping fakeintel"
		kill -TERM "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

env_file="$DEMO_DIR/fakeintel.env"
fake_log="$DEMO_DIR/fakeintel.log"
: >"$env_file"
bin/fakeintel --addr "$FAKE_ADDR" --latency "${FAKEINTEL_LATENCY:-150ms}" --jitter "${FAKEINTEL_JITTER:-100ms}" \
	>"$env_file" 2>"$fake_log" &
fake_pid=$!

# Wait until the fake listens: it logs "fakeintel listening" after printing
# every base URL.
for _ in $(seq 1 100); do
	if grep -q 'fakeintel listening' "$fake_log"; then
		break
	fi
	if ! kill -0 "$fake_pid" 2>/dev/null; then
		echo "demo: fakeintel did not start:" >&2
		cat "$fake_log" >&2
		exit 1
	fi
	sleep 0.1
done
if ! grep -q '^export GADGET_.*_BASE_URL=' "$env_file"; then
	echo "demo: fakeintel printed no base URLs; see $fake_log" >&2
	exit 1
fi

# Every provider: base URL at the fake (the "export GADGET_<P>_BASE_URL=…"
# lines fakeintel printed), API key "demo-key", enabled (also those off by
# default, such as flaky keyless services).
while IFS='=' read -r name value; do
	name=${name#export }
	[[ $name == GADGET_*_BASE_URL ]] || continue
	export "$name=$value"
	export "${name%_BASE_URL}_API_KEY=demo-key"
	export "${name%_BASE_URL}_ENABLED=true" # also the providers that are off by default
done <"$env_file"

export GADGET_DATABASE_URL="sqlite://$DEMO_DIR/gadget.db"
export GADGET_ROOT_PASSWORD
export GADGET_ADDR="$GADGET_LISTEN"

base="http://$GADGET_LISTEN"
fake="http://$FAKE_ADDR"
cat <<EOF

Inspector Gadget demo on $base  (GraphiQL at $base/, portal at $base/portal/, REST docs at $base/docs)
  sign in as root, password $password_note
  fake intel at $fake (log $fake_log); every provider points there with key demo-key

  sign in (GraphiQL and the portal ask for it), or get a token with curl:
  TOKEN=\$(curl -s -d username=root -d $password_arg $base/api/authenticate | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

  example query (paste into GraphiQL at $base/):
    { indicator(value: "hxxp://evil[.]example/payload") { value verdict { level score reasons } } }

  or with curl:
  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -d '{"query":"{ indicator(value: \\"hxxp://evil[.]example/payload\\") { value verdict { level score reasons } } }"}' $base/graphql

  values to try and the combined verdicts they get (the whole table: docs/demo.md):
    MALICIOUS  203.0.113.45, evil.example, hxxp://malicious[.]example/drop.exe,
               ea372104f1e9f069068e3752b543c7b0 (a recorded malware sample)
    BENIGN     8.8.8.8, 1.1.1.1, example.org (ordinary: clean answers, no listing)
    UNKNOWN    notfound.example, 00000000000000000000000000000042 (no provider knows them)
  make a provider fail: curl -X POST '$fake/_fakeintel/fail?provider=virustotal&status=429&retry_after=30'
  counters:             curl $fake/_fakeintel/stats

EOF

bin/gadget serve &
gadget_pid=$!
set +e
wait "$gadget_pid"
status=$?
set -e
gadget_pid=""
exit "$status"
