"""Cheap, transposition-invariant descriptions of a piece, for classifiers and distribution checks."""

from __future__ import annotations

import numpy as np

from ..music.events import GRID, Part, Step, drum_parts, merge_parts, regroup_steps

RHYTHM_BINS = np.array([0, 1.5, 2.5, 3.5, 5, 7, 10, 14, 20, 30, 49])  # grid units: 1/12 .. 4 quarters


def _histogram(values, bins) -> np.ndarray:
    counts, _ = np.histogram(values, bins=bins)
    return counts / max(1, counts.sum())


def top_line(steps: list[Step]) -> np.ndarray:
    return np.array([max(s.pitches) for s in steps])


def pieces_as_lines(pieces: list[list[Step]], parts: tuple[Part, ...]) -> list[list[Step]]:
    """Each piece's pitched parts merged into one line, drums left out: what the features describe
    (pieces of one part are kept as they are; a stretch of drums alone stays drums, so every
    piece keeps a line to describe)."""
    if len(parts) <= 1:
        return pieces
    drums = drum_parts(parts)

    def line(steps: list[Step]) -> list[Step]:
        pitched = [None if s.part in drums else s.part for s in steps]
        return merge_parts(regroup_steps(steps, pitched) if drums and any(p is not None for p in pitched) else steps)

    return [line(steps) for steps in pieces]


def piece_features(steps: list[Step]) -> np.ndarray:
    """Pitch classes (relative to the commonest), top-line intervals, durations, inter-onsets,
    range, density, polyphony: one fixed-length vector."""
    pitches = np.array([p for s in steps for p in s.pitches])
    classes = np.bincount(pitches % 12, minlength=12).astype(float)
    classes = np.roll(classes, -int(np.argmax(classes))) / classes.sum()
    intervals = np.clip(np.diff(top_line(steps)), -12, 12)
    durations = [round(s.duration * GRID) for s in steps]
    shifts = [round(s.shift * GRID) for s in steps[:-1]] or [0]
    quarters = sum(s.shift for s in steps[:-1]) + steps[-1].duration
    summary = [np.ptp(pitches) / 48, len(steps) / max(quarters, 1e-6) / 4, np.mean([len(s.pitches) for s in steps]) / 4,
               len(set(pitches.tolist())) / 24]
    return np.concatenate([classes, _histogram(intervals, np.arange(-12.5, 13.5)), _histogram(durations, RHYTHM_BINS),
                           _histogram(shifts, RHYTHM_BINS), summary])


# Yang and Lerch (2018): one feature per piece, compared across sets by overlap of distance distributions.
YANG_LERCH = {
    "pitch count": lambda s: np.array([len({p for x in s for p in x.pitches})], float),
    "pitch-class histogram": lambda s: np.bincount(np.array([p for x in s for p in x.pitches]) % 12,
                                                   minlength=12) / sum(len(x.pitches) for x in s),
    "pitch range": lambda s: np.array([np.ptp([p for x in s for p in x.pitches])], float),
    "average interval": lambda s: np.array([np.mean(np.abs(np.diff(top_line(s)))) if len(s) > 1 else 0.0]),
    "inter-onset interval": lambda s: _histogram([round(x.shift * GRID) for x in s[:-1]] or [0], RHYTHM_BINS),
    "note length": lambda s: _histogram([round(x.duration * GRID) for x in s], RHYTHM_BINS),
}
