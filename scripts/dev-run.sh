#!/usr/bin/env bash
# `make run`: a local portal with a demo site, for trying it in a browser.
#
# Builds bin/portal, makes sure PostgreSQL is up, creates and migrates the
# `portal` database, creates the demo site `acme` (admin admin@acme.test,
# password kept in .dev/admin-password) unless it exists, then serves the
# portal with the development identity provider (--dev-idp) at
# http://idp.localhost:8080, whose demo users share a password kept in
# .dev/idp-password. Once the portal answers, one box says where
# everything is and the passwords; the access log follows as short lines.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
step() { printf '==> [%s/4] %s\n' "$1" "$2"; }

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi

# A random password of 24 URL-safe characters (144 bits), with no tool
# beyond coreutils.
random_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# PostgreSQL: on these machines it may be installed but stopped. Start the
# local cluster when the database is on this machine and not answering.
db_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal?sslmode=disable}"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -d "$db_url"; then
  case "$db_url" in
    *@127.0.0.1[:/]*|*@localhost[:/]*)
      if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        say "PostgreSQL is not answering; starting the local cluster $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do
          pg_isready -q -d "$db_url" && break
          sleep 1
        done
      fi
      ;;
  esac
  if ! pg_isready -q -d "$db_url"; then
    echo "PostgreSQL is not answering at $db_url and could not be started." >&2
    echo "Start it, or set DATABASE_URL to a server that is running." >&2
    exit 1
  fi
fi

step 1 "building bin/portal (the first build takes a minute)"
# go build -v names each package as it compiles it: a count every 25
# keeps the screen moving without listing hundreds of them. Anything else
# it prints (a compile error) is shown as it is.
CGO_ENABLED=0 go build -v -trimpath -o bin/portal ./cmd/portal 2>&1 | awk '
  /^[^ :]+$/ { n++; if (n % 25 == 0) printf "    %d packages compiled...\n", n; next }
  { print }
  END { if (n > 0) printf "    %d packages compiled\n", n; else print "    up to date" }'

step 2 "migrating the database (created if missing)"
bin/portal migrate up | sed 's/^/    /'

# The site's address follows PORTAL_BASE_URL, as the portal does.
base_url="${PORTAL_BASE_URL:-http://localhost:8080}"
scheme="${base_url%%://*}"
base_host="${base_url#*://}"
base_host="${base_host%%/*}"
site_url="$scheme://acme.$base_host"
idp_url="$scheme://idp.$base_host"

# The demo site's admin password is kept in .dev/admin-password (git
# ignores .dev/), like the development IdP's, so that the box below can say
# it at every run. A site made before the file existed gets a new password.
mkdir -p .dev
step 3 "demo site acme"
if bin/portal site list | awk 'NR > 1 && $1 == "acme" { found = 1 } END { exit !found }'; then
  if [ -s .dev/admin-password ]; then
    echo "    exists"
  else
    (umask 077 && random_password > .dev/admin-password)
    PORTAL_ADMIN_PASSWORD=$(cat .dev/admin-password) \
      bin/portal admin reset-password --site acme --email admin@acme.test | sed 's/^/    /'
  fi
else
  (umask 077 && random_password > .dev/admin-password)
  PORTAL_ADMIN_PASSWORD=$(cat .dev/admin-password) \
    bin/portal site create acme --admin-email admin@acme.test | sed 's/^/    /'
fi
admin_password=$(cat .dev/admin-password)

# The development IdP's demo users share one password, kept between runs.
if [ ! -s .dev/idp-password ]; then
  (umask 077 && random_password > .dev/idp-password)
fi
PORTAL_DEV_IDP_PASSWORD=$(cat .dev/idp-password)
export PORTAL_DEV_IDP_PASSWORD

# Development only: short log lines, the development IdP's metadata
# importable by URL (it is on this machine, an address the portal refuses
# to fetch from unless told), and Ctrl-C stops at once rather than after
# the grace period a load balancer needs.
export PORTAL_LOG_FORMAT="${PORTAL_LOG_FORMAT:-text}"
export PORTAL_METADATA_ALLOW_PRIVATE="${PORTAL_METADATA_ALLOW_PRIVATE:-1}"
export PORTAL_SHUTDOWN_GRACE="${PORTAL_SHUTDOWN_GRACE:-0s}"

# Invitation e-mails: without a mail server the portal sends none and keeps
# them for the site admin's development mail page.
if [ -n "${PORTAL_SMTP_URL:-}" ]; then
  mail_note="sent through PORTAL_SMTP_URL"
else
  mail_note="kept at $site_url/admin/mail"
fi

step 4 "starting the portal (Ctrl-C to stop)"
bin/portal serve --dev-idp &
portal_pid=$!
trap 'kill -TERM "$portal_pid" 2>/dev/null || true' INT TERM

# Wait for /readyz on the listen address (PORTAL_ADDR, default :8080),
# with nothing but bash.
addr="${PORTAL_ADDR:-:8080}"
port="${addr##*:}"
host="${addr%:*}"
case "$host" in ""|0.0.0.0|"[::]") host=127.0.0.1 ;; esac
host="${host#[}"; host="${host%]}"
ready() {
  { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$base_host" >&3
  local status
  read -r _ status _ <&3 || status=
  exec 3>&-
  [ "$status" = 200 ]
}
until ready; do
  if ! kill -0 "$portal_pid" 2>/dev/null; then
    wait "$portal_pid"
    exit $?
  fi
  sleep 0.5
done
sleep 0.2 # the ready answer's own log line comes first

box() {
  local width=0 line
  for line in "$@"; do [ ${#line} -gt "$width" ] && width=${#line}; done
  printf '\n+%s+\n' "$(printf '%*s' $((width + 2)) '' | tr ' ' '-')"
  for line in "$@"; do printf '| %-*s |\n' "$width" "$line"; done
  printf '+%s+\n\n' "$(printf '%*s' $((width + 2)) '' | tr ' ' '-')"
}
box \
  "Meetings portal is running (Ctrl-C to stop)" \
  "" \
  "Site:            $site_url" \
  "Administration:  $site_url/admin" \
  "  e-mail:        admin@acme.test" \
  "  password:      $admin_password   (in .dev/admin-password)" \
  "" \
  "Sign in at the site as a demo user of the development IdP:" \
  "  b.simon (B Simon), a.lee (Alice Lee)" \
  "  password:      $PORTAL_DEV_IDP_PASSWORD   (in .dev/idp-password)" \
  "Development IdP: $idp_url" \
  "  metadata URL:  $idp_url/metadata" \
  "  (acme is already configured against it; see docs/AZURE.md for Azure AD)" \
  "Invitation e-mails: $mail_note" \
  "" \
  "Try it: sign in as b.simon, schedule a meeting inviting alice.lee@contoso.com" \
  "and start it; open its join link in a private window as a.lee or as a guest."

status=0
wait "$portal_pid" || status=$?
# A Ctrl-C interrupts that wait; this one waits for the portal to stop.
if kill -0 "$portal_pid" 2>/dev/null; then
  status=0
  wait "$portal_pid" || status=$?
fi
exit "$status"
