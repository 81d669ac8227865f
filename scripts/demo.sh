#!/usr/bin/env bash
# make demo: migrate and seed the example site, then run it with the sandbox and a django-q2
# cluster. Everything stops with Ctrl-C.
set -euo pipefail
DEMO_PORT="${1:-8000}"
SANDBOX_PORT="${2:-8765}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# DEMO_PYTHON: another environment (the test suite runs the demo with its own interpreter).
PY="${DEMO_PYTHON:-$ROOT/.venv/bin/python}"
cd "$ROOT/example_site"

export KOLLUS_SANDBOX_URL="http://127.0.0.1:${SANDBOX_PORT}"
export WAGTAILADMIN_BASE_URL="http://127.0.0.1:${DEMO_PORT}"
export KOLLUS_CALLBACK_TOKEN="${KOLLUS_CALLBACK_TOKEN:-demo-callback-token-0123456789}"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$PY" manage.py migrate --noinput >/dev/null
"$PY" manage.py createcachetable >/dev/null
# The daily statistics snapshot, so history grows past Kollus's one-year window.
"$PY" manage.py kollus_stats --install-schedule >/dev/null
# The sweep: every minute, queue retries that are due and work whose worker stopped.
"$PY" manage.py kollus_sweep --install-schedule >/dev/null
# Library rows a lost callback left stale are re-read through Kollus's media list.
"$PY" manage.py kollus_import --install-schedule >/dev/null

# The sandbox sends Kollus's platform callbacks to the site, exactly as Kollus would, and its
# player asks the site's play callback before playing (docs/selling-courses.md) and reports
# a learner's progress to its LMS callback (docs/progress.md).
"$PY" -m wagtail_kollus.sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" \
  --callback-url "http://127.0.0.1:${DEMO_PORT}/kollus/callbacks/{kind}/${KOLLUS_CALLBACK_TOKEN}/" \
  --callback-url "play=http://127.0.0.1:${DEMO_PORT}/kollus/callbacks/play/${KOLLUS_CALLBACK_TOKEN}/" \
  --callback-url "progress=http://127.0.0.1:${DEMO_PORT}/kollus/callbacks/progress/${KOLLUS_CALLBACK_TOKEN}/" \
  --state-file "${SANDBOX_STATE_FILE:-$ROOT/example_site/.sandbox-state.json}" &
pids+=($!)
for _ in $(seq 1 50); do
  if "$PY" - "$SANDBOX_PORT" <<'PYEOF' 2>/dev/null; then break; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PYEOF
  sleep 0.2
done

"$PY" manage.py seed_demo --admin-password "${DEMO_ADMIN_PASSWORD:-changeme}"

"$PY" manage.py qcluster &
pids+=($!)

cat <<TXT

  wagtail-kollus demo is running.
    Site:      http://127.0.0.1:${DEMO_PORT}/
    Admin:     http://127.0.0.1:${DEMO_PORT}/admin/
    Login:     admin / ${DEMO_ADMIN_PASSWORD:-changeme}
    Sandbox:   http://127.0.0.1:${SANDBOX_PORT}/  (what it emulates, callbacks, control API)
  Press Ctrl-C to stop.

TXT
"$PY" manage.py runserver "127.0.0.1:${DEMO_PORT}" --noreload
