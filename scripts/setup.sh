#!/usr/bin/env bash
# Installs everything the app and its tests need on Debian 12: system packages, the Python
# virtualenv, and the web assets from the npm registry. Idempotent; quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# --- Debian packages -------------------------------------------------------------------------
PKGS=(libsqlite3-mod-spatialite postgresql postgresql-15-postgis-3 chromium fonts-wqy-microhei nodejs npm
      python3-venv)
missing=()
for pkg in "${PKGS[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# Node may come from elsewhere (nodesource, nvm): only install Debian's when there is none.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
# A Python without venv support in Debian's sense (pyenv) does not need python3-venv.
if python3 -c "import venv, ensurepip" >/dev/null 2>&1; then missing=("${missing[@]/python3-venv}"); fi
read -r -a missing <<<"${missing[*]:-}"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- PostgreSQL (for PostGIS; the embedded default needs none) --------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  cluster=$(ls /etc/postgresql 2>/dev/null | head -n1 || true)
  if [ -n "$cluster" ]; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$cluster" main start 2>/dev/null \
      || $SUDO pg_ctlcluster "$cluster" main start 2>/dev/null || true
  fi
fi

# --- Python ----------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
req_hash=$(cat requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements-hash 2>/dev/null)" != "$req_hash" ]; then
  echo "setup: installing Python packages" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements-dev.txt
  .venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
  .venv/bin/pip install -q --no-deps -e .
  echo "$req_hash" > .venv/.requirements-hash
fi

# --- Web assets (npm registry → emergency/static/vendor) ---------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: installing web assets from the npm registry" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" > node_modules/.lock-hash
fi
.venv/bin/python scripts/vendor_assets.py >/dev/null
