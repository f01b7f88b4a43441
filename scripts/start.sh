#!/usr/bin/env bash
# One command from a fresh Debian machine to the demo running on http://127.0.0.1:5000:
# installs everything, migrates the embedded SpatiaLite database, loads the Chongqing demo data
# and serves the app. Set DATABASE_URL to use PostGIS instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SPATIALITE_LIBRARY_PATH="${SPATIALITE_LIBRARY_PATH:-mod_spatialite}"
.venv/bin/emergency db upgrade
.venv/bin/emergency demo load
exec .venv/bin/emergency serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
