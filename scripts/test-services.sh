#!/usr/bin/env bash
# Makes the servers `make test` needs available: PostgreSQL on 127.0.0.1:5432
# and Redis on 127.0.0.1:6379. A server that does not answer is started when
# it is installed (Debian's postgresql and redis-server packages); otherwise
# one line says what to install. GADGET_TEST_DATABASE_URL and
# GADGET_TEST_REDIS_URL point the tests at other servers: those are only
# checked, never started.
set -euo pipefail

say() { echo "test-services: $*" >&2; }

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if [[ -z ${GADGET_TEST_DATABASE_URL:-} ]]; then
	if ! command -v pg_isready >/dev/null || ! command -v pg_ctlcluster >/dev/null || [[ -z $(ls /etc/postgresql 2>/dev/null) ]]; then
		say "PostgreSQL is needed on 127.0.0.1:5432 (trust auth, database test): apt-get install postgresql, or set GADGET_TEST_DATABASE_URL"
		exit 1
	fi
	if ! pg_up; then
		say "starting PostgreSQL"
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
		for _ in $(seq 1 30); do pg_up && break; sleep 1; done
		pg_up || { say "PostgreSQL did not start on 127.0.0.1:5432"; exit 1; }
	fi
fi

if [[ -z ${GADGET_TEST_REDIS_URL:-} ]]; then
	if ! command -v redis-cli >/dev/null || ! command -v redis-server >/dev/null; then
		say "Redis is needed on 127.0.0.1:6379: apt-get install redis-server, or set GADGET_TEST_REDIS_URL"
		exit 1
	fi
	if ! redis_up; then
		say "starting Redis"
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
		for _ in $(seq 1 30); do redis_up && break; sleep 1; done
		redis_up || { say "Redis did not start on 127.0.0.1:6379"; exit 1; }
	fi
fi
