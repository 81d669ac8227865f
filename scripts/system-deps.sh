#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if they are missing. With the argument
# "postgres" (make matrix), also Debian's PostgreSQL server for the suite's PostgreSQL run.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# tests/test_translations.py re-extracts the catalogues; without GNU gettext it would skip.
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
if [ "${1:-}" = postgres ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  need+=(postgresql)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${need[*]} (install them with your package manager)." >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
