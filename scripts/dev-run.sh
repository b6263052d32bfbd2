#!/usr/bin/env bash
# `make run`: a local portal with a demo site, for trying it in a browser.
#
# Builds bin/portal, makes sure PostgreSQL is up, creates and migrates the
# `portal` database, creates the demo site `acme` (admin admin@acme.test,
# password generated and printed once) unless it exists, then serves the
# portal with the development identity provider (--dev-idp) at
# http://idp.localhost:8080, whose demo users share a password kept in
# .dev/idp-password.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

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

say "building bin/portal"
CGO_ENABLED=0 go build -trimpath -o bin/portal ./cmd/portal

say "migrating the database (created if missing)"
bin/portal migrate up

# The site's address follows PORTAL_BASE_URL, as the portal does.
base_url="${PORTAL_BASE_URL:-http://localhost:8080}"
base_host="${base_url#*://}"
base_host="${base_host%%/*}"
site_url="${base_url%%://*}://acme.$base_host"
if bin/portal site list | awk 'NR > 1 && $1 == "acme" { found = 1 } END { exit !found }'; then
  say "site acme exists; its admin password was printed when it was created"
  say "(forgot it? bin/portal admin reset-password --site acme --email admin@acme.test)"
else
  admin_password=$(random_password)
  PORTAL_ADMIN_PASSWORD="$admin_password" bin/portal site create acme --admin-email admin@acme.test
  cat <<MSG

  Site administrator of acme (shown this once, keep it):
    e-mail:   admin@acme.test
    password: $admin_password

MSG
fi

# The development IdP's demo users share one password, kept between runs.
# It is printed every time: it guards nothing but demo accounts.
mkdir -p .dev
if [ ! -s .dev/idp-password ]; then
  (umask 077 && random_password > .dev/idp-password)
fi
PORTAL_DEV_IDP_PASSWORD=$(cat .dev/idp-password)
export PORTAL_DEV_IDP_PASSWORD

# Invitation e-mails: without a mail server the portal sends none and keeps
# them for the site admin's development mail page.
if [ -n "${PORTAL_SMTP_URL:-}" ]; then
  mail_note="sent through PORTAL_SMTP_URL"
else
  mail_note="not sent (no PORTAL_SMTP_URL); read them at $site_url/admin/mail (as the site admin)"
fi

cat <<MSG

  Site:           $site_url
  Administration: $site_url/admin
  Development IdP users (sign in at the site): b.simon (B Simon), a.lee (Alice Lee)
  Their password: $PORTAL_DEV_IDP_PASSWORD   (kept in .dev/idp-password)
  Invitation e-mails: $mail_note

  Try it: sign in as b.simon, Schedule a meeting inviting alice.lee@contoso.com,
  Start it; open its join link in a private window and sign in as a.lee, or
  join as a guest and let yourself in from b.simon's page. Everyone in the
  meeting checks camera and microphone, then joins its audio and video
  (screen sharing too); the media goes through this portal, on the UDP port
  it logs as "meeting media" (set PORTAL_MEDIA_UDP to fix it).

MSG

say "serving (Ctrl-C to stop)"
exec bin/portal serve --dev-idp
