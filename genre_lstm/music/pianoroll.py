"""A piano-roll picture of a piece (PNG), each part in a colour of its own, with the seed shaded
when it is included.

Drawn directly into a pixel array (no plotting library): a 500-step piece takes milliseconds,
where matplotlib took half a second per picture. A long piece wraps into rows, like lines of a
score, so a 4-minute piece stays readable at the width of a page instead of one thin strip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .events import Part, Step

WIDTH, ROW = 1000, 5  # pixels across; pixels per semitone
ROW_QUARTERS = 64.0  # quarter notes per row (16 bars of 4/4): ~16 px a quarter note
ROW_GAP = 8  # blank pixels between rows
NEW, SEED, SEED_SHADE, BAR_LINE, OCTAVE_LINE = (63, 81, 181), (120, 120, 120), (236, 236, 236), (200, 200, 200), (225, 225, 240)
ROW_LINE = (150, 150, 150)  # every fourth bar line, darker
# One colour per part (the first is NEW, so a single line looks as it always did); drums in black.
PART_COLOURS = (NEW, (216, 67, 21), (46, 125, 50), (142, 36, 170), (0, 131, 143), (249, 168, 37), (173, 20, 87),
                (109, 76, 65))
DRUM_COLOUR = (33, 33, 33)


def steps_to_pianoroll_png(steps: list[Step], path: str | Path, *, seed_steps: int = 0,
                           parts: Sequence[Part] = ()) -> Path:
    """Each note a bar (time left to right, pitch bottom to top) in its part's colour (drums in
    black), ROW_QUARTERS to a row; the first ``seed_steps`` in grey on a shaded background; thin
    lines mark every 4 quarter notes (darker every 16) and every C. A piece shorter than one row
    fills the width."""
    from PIL import Image

    onsets, at = [], 0.0
    for step in steps:
        onsets.append(at)
        at += step.shift
    total = max([o + s.duration for o, s in zip(onsets, steps)] + [at, 1.0])
    rows = int(np.ceil(total / ROW_QUARTERS))
    scale = (WIDTH - 1) / total if rows == 1 else WIDTH / ROW_QUARTERS  # pixels per quarter note
    pitches = [p for s in steps for p in s.pitches] or [60]
    low, high = min(pitches) - 2, max(pitches) + 2
    height = (high - low + 1) * ROW
    strip = np.full((height, rows * WIDTH, 3), 255, np.uint8)  # all rows side by side, cut up below
    if seed_steps:
        seed_end = onsets[seed_steps] if seed_steps < len(steps) else total
        strip[:, : int(seed_end * scale)] = SEED_SHADE
    for pitch in range(low, high + 1):
        if pitch % 12 == 0:
            strip[(high - pitch) * ROW + ROW // 2, : int(total * scale) + 1] = OCTAVE_LINE
    for bar in np.arange(0, total, 4.0):
        strip[:, int(bar * scale)] = ROW_LINE if bar % 16 == 0 and bar else BAR_LINE
    for index, (onset, step) in enumerate(zip(onsets, steps)):
        left, right = int(onset * scale), max(int(onset * scale) + 1, int((onset + step.duration) * scale) - 1)
        for pitch in step.pitches:
            top = (high - pitch) * ROW
            strip[top + 1: top + ROW, left:right] = SEED if index < seed_steps else part_colour(step.part, parts)
    gap = np.full((ROW_GAP, WIDTH, 3), 255, np.uint8)
    pieces = []
    for row in range(rows):
        pieces += [strip[:, row * WIDTH:(row + 1) * WIDTH]] + ([gap] if row < rows - 1 else [])
    path = Path(path)
    Image.fromarray(np.concatenate(pieces)).save(path, optimize=False)
    return path


def part_colour(index: int, parts: Sequence[Part] = ()) -> tuple[int, int, int]:
    """The colour part ``index`` is drawn in."""
    if index < len(parts) and parts[index].is_drums:
        return DRUM_COLOUR
    return PART_COLOURS[index % len(PART_COLOURS)]
