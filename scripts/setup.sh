#!/usr/bin/env bash
# One-step setup on Debian 12: system packages, then the virtual environment at .venv/.
#   bash scripts/setup.sh          runtime only (what the app needs)
#   bash scripts/setup.sh --train  plus JAX, for distributed training (genre-lstm train --distribute)
#   bash scripts/setup.sh --dev    plus the test tools (pytest, hypothesis, Playwright) and JAX
#   bash scripts/setup.sh --music  plus the openly licensed music of Debian packages (packages-music.txt:
#                                  Freedoom, OpenMSX, Planet Blupi) and what reads it (requirements-music.txt),
#                                  for training the genres made from them (DATA.md)
# Options combine (--dev --music). Safe to run again: it skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
train=0
music=0
for option in "$@"; do
  case "$option" in
    --dev) dev=1 ;;
    --train) train=1 ;;
    --music) music=1 ;;
    *) echo "setup: unknown option $option (use --train, --dev and/or --music)" >&2; exit 2 ;;
  esac
done

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the list lives in packages.txt (the Hugging Face Space reads the same file).
mapfile -t debs < <(grep -Ev '^\s*(#|$)' packages.txt)
[ "$dev" -eq 1 ] && debs+=(chromium)
[ "$music" -eq 1 ] && mapfile -t -O "${#debs[@]}" debs < <(grep -Ev '^\s*(#|$)' packages-music.txt)
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
reqs=(requirements.txt)
[ "$train" -eq 1 ] && reqs=(requirements-train.txt)
[ "$dev" -eq 1 ] && reqs=(requirements-dev.txt)  # includes requirements-train.txt
[ "$music" -eq 1 ] && reqs+=(requirements-music.txt)
stamp=.venv/.installed-$(cat requirements.txt requirements-train.txt "${reqs[@]}" pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages from ${reqs[*]}"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "${reqs[@]/#/-r}"
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
echo "setup: ready (.venv)"
