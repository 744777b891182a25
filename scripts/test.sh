#!/usr/bin/env bash
# Set everything up (Debian packages incl. Chromium, .venv with test tools) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
