"""A piano-roll picture of a piece (PNG), with the seed part shaded when it is included."""

from __future__ import annotations

from pathlib import Path

from .events import Step


def steps_to_pianoroll_png(steps: list[Step], path: str | Path, *, seed_steps: int = 0,
                           title: str = "") -> Path:
    """Draw each note as a bar (time in quarter notes, MIDI pitch); the first ``seed_steps`` in grey."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3), dpi=100)
    axes = figure.add_subplot()
    onset, seed_end = 0.0, 0.0
    bars = {"seed": [], "new": []}
    for index, step in enumerate(steps):
        kind = "seed" if index < seed_steps else "new"
        for pitch in step.pitches:
            bars[kind].append((onset, step.duration, pitch))
        onset += step.shift
        if index + 1 == seed_steps:
            seed_end = onset
    for kind, colour in (("seed", "#9a9a9a"), ("new", "#3f51b5")):
        for start, length, pitch in bars[kind]:
            axes.broken_barh([(start, length)], (pitch - 0.4, 0.8), facecolors=colour)
    if seed_steps:
        axes.axvspan(0, seed_end, color="#eeeeee", zorder=0, label="seed")
        axes.legend(loc="upper right", fontsize=8)
    pitches = [p for s in steps for p in s.pitches] or [60]
    axes.set_ylim(min(pitches) - 2, max(pitches) + 2)
    axes.set_xlim(0, max(onset, 1.0))
    axes.set_xlabel("quarter notes")
    axes.set_ylabel("MIDI pitch")
    if title:
        axes.set_title(title, fontsize=10)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    return path
