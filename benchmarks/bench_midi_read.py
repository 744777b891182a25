"""Reading MIDI: mido with our quantizer (what midi_io uses) vs music21's MIDI import, side by side.

    .venv/bin/python benchmarks/bench_midi_read.py [--notes 500] [--repeats 5]

Writes a piece of known steps, then alternately reads it back both ways, timing each and checking
how many of the written steps come back unchanged.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from genre_lstm.music.events import GRID, Step  # noqa: E402
from genre_lstm.music.midi_io import (  # noqa: E402
    midi_file_to_steps,
    notes_to_steps,
    steps_to_midi_file,
)


def music21_read(path: Path) -> list[Step]:
    from music21 import converter

    score = converter.parse(str(path), forceSource=True)
    notes = [(float(n.offset), float(n.duration.quarterLength), int(p.midi))
             for n in score.flatten().notes for p in n.pitches]
    return notes_to_steps(notes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    units = [1, 2, 3, 4, 6, 8, 12, 18, 24]  # sixteenth-triplets to dotted quarters
    steps = []
    for _ in range(args.notes):
        length = int(rng.choice(units)) / GRID
        pitches = tuple(sorted({int(p) for p in rng.integers(48, 84, rng.integers(1, 4))}))
        steps.append(Step(pitches, length, length))
    path = steps_to_midi_file(steps, Path(tempfile.mkdtemp()) / "piece.mid")
    music21_read(path)  # import music21 outside the timing
    timings = {"mido + our quantizer": [], "music21": []}
    results = {}
    for _ in range(args.repeats):
        for name, read in (("mido + our quantizer", midi_file_to_steps), ("music21", music21_read)):
            began = time.perf_counter()
            results[name] = read(path)
            timings[name].append(time.perf_counter() - began)
    for name, values in timings.items():
        back = results[name]
        same = sum(a == b for a, b in zip(steps, back))
        print(f"{name:22s} median {1000 * statistics.median(values):7.1f} ms; {len(back)} steps back "
              f"for {len(steps)} written, {same} identical in place")
    ratio = statistics.median(timings["music21"]) / statistics.median(timings["mido + our quantizer"])
    print(f"ratio: mido + our quantizer is {ratio:.1f}x faster than music21's MIDI import")


if __name__ == "__main__":
    main()
