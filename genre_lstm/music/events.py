"""The music representation shared by every module: a piece is a list of steps.

One step is one note or chord (the paper's unit), with a duration and the time to the next
step, both in quarter notes, and where it falls in its bar: its position (grid units from the bar
line) and its bar's time signature. Positions are read from the score's measures or the MIDI
file's time-signature events, never inferred from accumulated gaps; a generated step's position
follows from the step before it. Positions on the rhythm grid are integers in ``GRID`` units per
quarter note: 12 holds sixteenths (3), triplet eighths (4) and sixteenth triplets (2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

GRID = 12  # grid units per quarter note
MAX_DURATION_UNITS = 16 * GRID  # durations clip at four whole notes (held and tied notes over bars)
MAX_SHIFT_UNITS = 16 * GRID  # gaps to the next step clip at four whole notes
LOWEST_PITCH, HIGHEST_PITCH = 0, 127
COMMON_TIME = (4, 4)  # the time signature of a MIDI file that states none

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")  # sharps: '-' is a minus sign


@dataclass(frozen=True)
class Step:
    """One note or chord: sorted MIDI pitches, its length and the gap to the next onset (quarters),
    and where it falls in its bar (unknown: None). Two steps are equal when they sound the same;
    where they sit in a bar is compared on its own (``position``, ``meter``)."""

    pitches: tuple[int, ...]
    duration: float
    shift: float
    position: int | None = field(default=None, compare=False)  # grid units from its bar line
    meter: tuple[int, int] | None = field(default=None, compare=False)  # its bar's (numerator, denominator)


def meter_to_units(meter: tuple[int, int]) -> int:
    """Length of a bar in grid units: (6, 8) -> 36, (4, 4) -> 48."""
    numerator, denominator = meter
    return max(1, round(numerator * 4 * GRID / denominator))


def place_steps(steps: list[Step], *, position: int = 0, meter: tuple[int, int] = COMMON_TIME) -> list[Step]:
    """Steps with positions: the first at ``position`` of a ``meter`` bar, each next one where the
    gap before it lands. For music whose bars are not known (seeds saved without positions)."""
    placed, at = [], position
    bar = meter_to_units(meter)
    for step in steps:
        placed.append(replace(step, position=at % bar, meter=meter))
        at += round(step.shift * GRID)
    return placed


def next_position(step: Step) -> int | None:
    """Position of the step after ``step`` in the same meter (None when ``step``'s is not known)."""
    if step.position is None or step.meter is None:
        return None
    return (step.position + round(step.shift * GRID)) % meter_to_units(step.meter)


def units_to_bar_end(step: Step, length_units: int) -> int:
    """Grid units from ``step``'s onset to the first bar line at or after ``length_units`` from its
    onset (at least one unit on): where a piece ending on that step stops."""
    bar = meter_to_units(step.meter or COMMON_TIME)
    position = step.position or 0
    end = position + max(1, length_units)
    return -(-end // bar) * bar - position


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


def steps_to_positions(steps: list[Step]) -> list[list[int]] | None:
    """Where each step sits, in the JSON form beside ``steps_to_rows``: [position, numerator,
    denominator] per step (None when any step's position is not known)."""
    if any(s.position is None or s.meter is None for s in steps):
        return None
    return [[s.position, *s.meter] for s in steps]


def rows_to_steps(rows: list[list[int]], positions: list[list[int]] | None = None) -> list[Step]:
    """Inverse of ``steps_to_rows`` (and ``steps_to_positions`` when given; files written before
    positions were kept have none)."""
    if positions is None or len(positions) != len(rows):
        return [Step(tuple(row[2:]), row[0] / GRID, row[1] / GRID) for row in rows]
    return [Step(tuple(row[2:]), row[0] / GRID, row[1] / GRID, int(where[0]), (int(where[1]), int(where[2])))
            for row, where in zip(rows, positions)]


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
        fixed.append(replace(steps[index], duration=length / GRID,
                             shift=(shift if index + 1 < len(steps) else length) / GRID))
        next_onset.update((p, start) for p in steps[index].pitches)
    return fixed[::-1]
