#!/usr/bin/env bash
# Set everything up (Debian packages incl. Chromium and the packaged music of DATA.md, .venv with test
# tools) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev --music
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
