#!/usr/bin/env bash
# What the tests need besides Go, checked and, where possible, installed:
# `make test` runs it first, and .ci/run (CI, on a fresh machine) too.
#
#   PostgreSQL        every integration test (127.0.0.1:5432, user postgres,
#                     trust; or DATABASE_URL)
#   chromium          the browser tests drive /usr/bin/chromium
#   python3-pysaml2   the interop tests' identity provider (internal/sso/interop),
#   xmlsec1             which signs with xmlsec1
#   python3-icalendar the meetings' iCalendar files read back (internal/meetings)
#   gcc, libc6-dev    cgo, which go test -race needs
#
# Missing Debian packages are installed with apt when this runs as root or
# with password-less sudo; otherwise it says in one line what to run and
# exits 1. A stopped local PostgreSQL cluster is started the same way.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# The tests use Debian's interpreter, not the first python3 on PATH.
python=/usr/bin/python3
db_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
# The tests create their databases from the server's "postgres" database
# (internal/dbtest), whatever database the URL names.
base="${db_url%%\?*}"
server_url="${base%/*}/postgres${db_url#"$base"}"

say() { printf 'test-deps: %s\n' "$*"; }

can_root() { [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }

# as_root runs a command as root: directly, or through password-less sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo -n DEBIAN_FRONTEND=noninteractive "$@"
  fi
}

python_has() { [ -x "$python" ] && "$python" -c "import $1" 2>/dev/null; }

# The database is on this machine when the URL names loopback (or nothing).
local_db() {
  case "$db_url" in
    *@127.0.0.1[:/]* | *@localhost[:/]* | *@\[::1\][:/]* | postgres:///* | postgresql:///*) return 0 ;;
  esac
  return 1
}

db_answers() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -d "$db_url"; }

missing=()
command -v gcc >/dev/null 2>&1 && [ -e /usr/include/stdlib.h ] || missing+=(gcc libc6-dev)
[ -x /usr/bin/chromium ] || missing+=(chromium)
python_has saml2 || missing+=(python3-pysaml2)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
# pg_isready tells whether the database answers, here and below.
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
python_has icalendar || missing+=(python3-icalendar)
fresh_postgresql=no
if local_db && ! command -v pg_ctlcluster >/dev/null 2>&1 && ! db_answers; then
  missing+=(postgresql)
  fresh_postgresql=yes
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! can_root || ! command -v apt-get >/dev/null 2>&1; then
    echo "make test needs ${missing[*]}: run  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  # The machine's package lists first; refreshed only if that fails.
  if ! as_root apt-get install -y -q "${missing[@]}" </dev/null; then
    as_root apt-get update -q </dev/null
    as_root apt-get install -y -q "${missing[@]}" </dev/null
  fi
fi

# A server installed just now has Debian's default authentication; the
# tests connect as postgres over TCP without a password, as on the
# developers' machines. Only ever done to a server installed by this run.
if [ "$fresh_postgresql" = yes ]; then
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  done
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
fi

if ! db_answers; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if local_db && [ -n "$version" ] && command -v pg_ctlcluster >/dev/null 2>&1 && can_root &&
     as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1; then
    say "PostgreSQL was not answering: started the local cluster $version/main"
    for _ in $(seq 1 60); do
      db_answers && break
      sleep 1
    done
  fi
  if ! db_answers; then
    hint="start it"
    [ -n "$version" ] && local_db && hint="start it (sudo pg_ctlcluster $version main start)"
    echo "make test needs PostgreSQL at $db_url: $hint, or set DATABASE_URL to one that runs" >&2
    exit 1
  fi
fi
# Reachable is not enough: the tests sign in as the URL's user without a
# password (trust), and say so plainly rather than fail every test.
if command -v psql >/dev/null 2>&1 && ! psql "$server_url" -w -Atc 'select 1' >/dev/null 2>&1; then
  echo "PostgreSQL at $db_url does not let the tests in without a password: allow it (pg_hba.conf: host all all 127.0.0.1/32 trust) or set DATABASE_URL" >&2
  exit 1
fi
say "PostgreSQL, chromium, python3-pysaml2, xmlsec1, python3-icalendar and gcc are here"
