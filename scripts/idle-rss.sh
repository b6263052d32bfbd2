#!/usr/bin/env bash
# `make rss`: how much memory the portal holds when it is up and idle.
#
# Builds bin/portal, serves it against its own database (portal_rss on the
# server of DATABASE_URL, migrated here), waits until /readyz answers, sends
# what a load balancer and a visitor would (probes, the landing page, a site
# page), lets it idle, then reads VmRSS from /proc. Exits 1 when it is over
# RSS_LIMIT_MIB (default 40). Needs Linux, curl and PostgreSQL.
set -euo pipefail

cd "$(dirname "$0")/.."

limit_mib="${RSS_LIMIT_MIB:-40}"
idle_seconds="${RSS_IDLE_SECONDS:-5}"
addr="127.0.0.1:${RSS_PORT:-18080}"
metrics_addr="127.0.0.1:${RSS_METRICS_PORT:-19090}"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi

# The database: portal_rss beside the one DATABASE_URL names.
db_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal?sslmode=disable}"
base="${db_url%%\?*}"
query="${db_url#"$base"}"
export DATABASE_URL="${base%/*}/portal_rss$query"
# A fixed key for this throw-away database, so nothing warns about the
# development key.
export PORTAL_SECRET_KEY="${PORTAL_SECRET_KEY:-$(printf '%064d' 0)}"

CGO_ENABLED=0 go build -trimpath -o bin/portal ./cmd/portal
bin/portal migrate up >/dev/null
if ! bin/portal site list | awk 'NR > 1 && $1 == "acme" { found = 1 } END { exit !found }'; then
  PORTAL_ADMIN_PASSWORD="idle rss measurement only" bin/portal site create acme --admin-email admin@acme.test >/dev/null
fi

log=$(mktemp)
PORTAL_ADDR="$addr" PORTAL_METRICS_ADDR="$metrics_addr" bin/portal serve --no-migrate 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  curl -fs "http://$addr/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://$addr/readyz" >/dev/null || { echo "the portal did not become ready:" >&2; cat "$log" >&2; exit 1; }

for _ in $(seq 1 20); do
  curl -fs "http://$addr/healthz" "http://$addr/readyz" -o /dev/null -o /dev/null
  curl -fs -H "Host: localhost:8080" "http://$addr/" -o /dev/null
  curl -fs -H "Host: acme.localhost:8080" "http://$addr/admin" -o /dev/null
  curl -fs "http://$metrics_addr/metrics" -o /dev/null
done
sleep "$idle_seconds"

rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
printf 'portal idle RSS: %d.%d MiB (peak %d.%d MiB since start); limit %d MiB\n' \
  $((rss_kib / 1024)) $((rss_kib % 1024 * 10 / 1024)) $((hwm_kib / 1024)) $((hwm_kib % 1024 * 10 / 1024)) "$limit_mib"
if [ "$rss_kib" -gt $((limit_mib * 1024)) ]; then
  echo "over the limit: something holds memory at start or after these requests (look for work done at start-up or in init)" >&2
  exit 1
fi
