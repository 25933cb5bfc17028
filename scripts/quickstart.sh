#!/usr/bin/env bash
# Installs Epoch in a virtualenv and starts it on its embedded default: SQLite, the built-in Drove
# simulator, one node. UI and API at http://localhost:8080 (log in as admin/admin).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt

export EPOCH_BIND_HOST="${EPOCH_BIND_HOST:-127.0.0.1}"
# A first start gets a demo topology that runs every minute on the built-in Drove simulator.
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo
echo "Epoch is starting at http://localhost:8080 (admin/admin); Ctrl-C stops it."
exec .venv/bin/python -m epoch_site.launcher
