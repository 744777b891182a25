#!/usr/bin/env bash
# Train (or resume) every shipped genre into checkpoints/<id> with the CLI, one after another.
#   bash scripts/train_all.sh [MAX_MINUTES_EACH] [GENRE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-25}
shift || true
genres=("$@")
[ ${#genres[@]} -gt 0 ] || genres=(chinese-folk baroque-chorale irish-fiddle german-folk classical-quartet renaissance-polyphony american-fiddle scottish-fiddle)
for genre in "${genres[@]}"; do
  echo "== $genre ($(date -u +%H:%M:%S))"
  /usr/bin/time -f "$genre wall %e s" .venv/bin/genre-lstm train --genre "$genre" --max-minutes "$minutes"
done
