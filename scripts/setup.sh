#!/usr/bin/env bash
# One-step setup on Debian 12: system packages, then the virtual environment at .venv/.
#   bash scripts/setup.sh          runtime only (what the app needs)
#   bash scripts/setup.sh --train  plus JAX, for distributed training (genre-lstm train --distribute)
#   bash scripts/setup.sh --dev    plus the test tools (pytest, hypothesis, Playwright) and JAX
# Safe to run again: it skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
train=0
case "${1:-}" in
  --dev) dev=1 ;;
  --train) train=1 ;;
  "") ;;
  *) echo "setup: unknown option $1 (use --train or --dev)" >&2; exit 2 ;;
esac

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the list lives in packages.txt (the Hugging Face Space reads the same file).
mapfile -t debs < <(grep -Ev '^\s*(#|$)' packages.txt)
[ "$dev" -eq 1 ] && debs+=(chromium)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -q
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Virtual environment, reinstalled only when the requirements change.
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
req=requirements.txt
[ "$train" -eq 1 ] && req=requirements-train.txt
[ "$dev" -eq 1 ] && req=requirements-dev.txt  # includes requirements-train.txt
stamp=.venv/.installed-$(cat requirements.txt requirements-train.txt "$req" pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages from $req"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$req"
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
echo "setup: ready (.venv)"
