#!/usr/bin/env bash
# Installs everything the tests need (dev requirements, ZooKeeper and Chromium from Debian) and runs
# the linters, Django's checks and the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -f /usr/share/java/zookeeper.jar ] || [ ! -f /usr/share/java/slf4j-simple.jar ] \
   || ! command -v java >/dev/null || ! command -v chromium >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    zookeeper libslf4j-java default-jre-headless chromium fonts-liberation >/dev/null
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  as_root apt-get install -y -qq python3-venv >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The pure core, the storage layer and the election are fully typed.
.venv/bin/mypy --strict scheduler/core scheduler/election.py topologies/domain.py \
  topologies/codec topologies/storage topologies/retention.py drove_client
.venv/bin/python manage.py check
.venv/bin/python manage.py makemigrations --check --dry-run
.venv/bin/pytest "$@"
