"""The music representation shared by every module: a piece is a list of steps.

One step is one note or one chord (the paper's unit), with a duration and the time to the next
step, both in quarter notes. Positions on the rhythm grid are integers in ``GRID`` units per
quarter note: 12 holds sixteenths (3), triplet eighths (4) and sixteenth triplets (2).
"""

from __future__ import annotations

from dataclasses import dataclass

GRID = 12  # grid units per quarter note
MAX_DURATION_UNITS = 4 * GRID  # durations clip at a whole note
MAX_SHIFT_UNITS = 4 * GRID  # gaps to the next step clip at a whole note
LOWEST_PITCH, HIGHEST_PITCH = 0, 127

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")  # sharps: '-' is a minus sign


@dataclass(frozen=True)
class Step:
    """One note or chord: sorted MIDI pitches, its length and the gap to the next onset (quarters)."""

    pitches: tuple[int, ...]
    duration: float
    shift: float


def pitch_to_name(pitch: int) -> str:
    """MIDI number -> name with octave, e.g. 64 -> 'E4', 70 -> 'A#4', 0 -> 'C-1' (octave -1)."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def name_to_pitch(name: str) -> int:
    """Inverse of ``pitch_to_name``: 'E4' -> 64, 'C-1' -> 0, 'A#4' -> 70."""
    letters = name[:2] if name[1:2] == "#" else name[:1]
    octave = name[len(letters):]
    if letters not in _NAMES or not octave.lstrip("-").isdigit():
        raise ValueError(f"not a pitch name: {name!r}")
    pitch = (int(octave) + 1) * 12 + _NAMES.index(letters)
    if not 0 <= pitch <= 127:
        raise ValueError(f"pitch name out of MIDI range: {name!r}")
    return pitch


def pitches_to_token(pitches: tuple[int, ...]) -> str:
    """The paper's token: 'E4' for a note, sorted pitches joined by '.' for a chord ('C4.E4.G4')."""
    return ".".join(pitch_to_name(p) for p in sorted(pitches))


def token_to_pitches(token: str) -> tuple[int, ...]:
    """Inverse of ``pitches_to_token``."""
    return tuple(sorted(name_to_pitch(part) for part in token.split(".")))


def quarters_to_units(quarters: float, *, lowest: int, highest: int) -> int:
    """Nearest grid position of a length in quarter notes, clipped to [lowest, highest]."""
    return int(min(max(round(quarters * GRID), lowest), highest))


def steps_to_rows(steps: list[Step]) -> list[list[int]]:
    """Steps in the JSON form of caches, seed windows and child-process replies:
    [duration in grid units, gap in grid units, pitch, pitch, ...] per step."""
    return [[round(s.duration * GRID), round(s.shift * GRID), *s.pitches] for s in steps]


def rows_to_steps(rows: list[list[int]]) -> list[Step]:
    """Inverse of ``steps_to_rows``."""
    return [Step(tuple(row[2:]), row[0] / GRID, row[1] / GRID) for row in rows]


def steps_duration_quarters(steps: list[Step]) -> float:
    """Length of a piece in quarter notes: the last onset plus the longer of its duration and shift."""
    onset, end = 0.0, 0.0
    for step in steps:
        end = max(end, onset + step.duration)
        onset += step.shift
    return max(end, onset)


def playable_steps(steps: list[Step]) -> list[Step]:
    """The form a MIDI file can hold exactly (steps on the grid): a note ends no later than the next
    onset of the same pitch (a re-struck key), and the last step's gap equals its duration."""
    units = [(round(s.duration * GRID), round(s.shift * GRID)) for s in steps]
    onsets, at = [], 0
    for _, shift in units:
        onsets.append(at)
        at += shift
    next_onset: dict[int, int] = {}
    fixed: list[Step] = []
    for index in range(len(steps) - 1, -1, -1):
        (duration, shift), start = units[index], onsets[index]
        length = max(min(start + duration, next_onset.get(p, start + duration)) for p in steps[index].pitches) - start
        fixed.append(Step(steps[index].pitches, length / GRID, (shift if index + 1 < len(steps) else length) / GRID))
        next_onset.update((p, start) for p in steps[index].pitches)
    return fixed[::-1]
