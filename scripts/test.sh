#!/usr/bin/env bash
# Runs the whole test suite on both spatial backends (SpatiaLite and PostGIS), the browser
# tests in headless Chromium, and the linter. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SPATIALITE_LIBRARY_PATH="${SPATIALITE_LIBRARY_PATH:-mod_spatialite}"
# A missing backend is a failure here, never a skip.
export CI="${CI:-true}"
.venv/bin/ruff check .
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider -n "${TEST_WORKERS:-2}" --dist loadgroup --durations=30 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
