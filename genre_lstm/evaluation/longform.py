"""Whole pieces as users get them: 400-step continuations of held-out seeds against real held-out
music of equal length, measured where a listener or a notation program notices (issue 20).

Every onset is taken where the written MIDI file puts it: the first step at its position in its bar
(a pickup rest before it), each next one a gap later; steps whose bars are not known are written
from a 4/4 bar line, as files were before positions were kept. An onset is on a beat when it falls
on a quarter note of that grid, on a downbeat when it falls on a bar line; the best phase is the
grid offset (in twelfths of a quarter) that puts the most onsets on beats, and a piece is steady
when its first and second halves have the same best phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..music.events import GRID, Step, place_steps

if TYPE_CHECKING:
    from ..training.corpus import Piece

LONG_STEPS = 400  # what a user gets: the issue measured 400-step pieces
RUNS = 20  # generation runs per set (random seeds 11..30, as the 11..20 and ten more)
VARIATIONS = 4  # variations per run: siblings of one seed, kept in one fold of the two-sample test
FIRST_RANDOM_SEED = 11
REAL_PIECES = RUNS * VARIATIONS
SPARSE_BEATS = 0.10  # "at most 10% of onsets on a beat"


def as_written(steps: list[Step]) -> list[Step]:
    """The steps placed in bars as a MIDI file writes them (from a 4/4 bar line when unknown)."""
    if steps and all(s.position is not None and s.meter is not None for s in steps):
        return steps
    return place_steps(steps)


def written_onsets(steps: list[Step]) -> np.ndarray:
    """Grid units of every onset from the start of the written file (after the pickup rest)."""
    placed = as_written(steps)
    gaps = [round(s.shift * GRID) for s in placed[:-1]]
    return placed[0].position + np.concatenate([[0], np.cumsum(gaps)]).astype(int) if placed else np.zeros(0, int)


def best_phase(onsets: np.ndarray) -> tuple[int, float]:
    """(phase, share): the offset in twelfths of a quarter that puts the most onsets on beats."""
    shares = [float(np.mean((onsets - phase) % GRID == 0)) for phase in range(GRID)]
    phase = int(np.argmax(shares))
    return phase, shares[phase]


@dataclass
class Metre:
    """How one piece sits on the beat and in its bars."""

    on_beat: float
    downbeat: float
    best_phase_share: float
    steady: bool

    @classmethod
    def of(cls, steps: list[Step]) -> "Metre":
        onsets = written_onsets(steps)
        placed = as_written(steps)
        half = len(onsets) // 2
        return cls(on_beat=float(np.mean(onsets % GRID == 0)),
                   downbeat=float(np.mean([s.position == 0 for s in placed])),
                   best_phase_share=best_phase(onsets)[1],
                   steady=best_phase(onsets[:half])[0] == best_phase(onsets[half:])[0])


def pitch_range(steps: list[Step]) -> int:
    pitches = [p for s in steps for p in s.pitches]
    return max(pitches) - min(pitches)


def pitch_class_entropy(steps: list[Step]) -> float:
    """Entropy in bits of the pitch-class histogram of every note (muspy's definition)."""
    counts = np.bincount([p % 12 for s in steps for p in s.pitches], minlength=12).astype(float)
    shares = counts[counts > 0] / counts.sum()
    return float(-(shares * np.log2(shares)).sum())


def set_figures(pieces: list[list[Step]]) -> dict[str, float]:
    """Means over a set of pieces of every long-form figure."""
    metres = [Metre.of(p) for p in pieces]
    return {
        "pieces": len(pieces),
        "steps": float(np.mean([len(p) for p in pieces])),
        "on_beat": float(np.mean([m.on_beat for m in metres])),
        "sparse_beats": float(np.mean([m.on_beat <= SPARSE_BEATS for m in metres])),
        "best_phase": float(np.mean([m.best_phase_share for m in metres])),
        "downbeat": float(np.mean([m.downbeat for m in metres])),
        "steady": float(np.mean([m.steady for m in metres])),
        "pitch_range": float(np.mean([pitch_range(p) for p in pieces])),
        "pitch_class_entropy": float(np.mean([pitch_class_entropy(p) for p in pieces])),
    }


def equal_lengths(generated: list[list[Step]], real: list[list[Step]]) -> list[list[Step]]:
    """Each generated piece cut to the length of the real piece it is paired with (real tunes are
    often shorter than 400 steps, and range and steadiness grow with length)."""
    return [g[:len(r)] for g, r in zip(generated, real)]


def long_features(steps: list[Step]) -> np.ndarray:
    """The short-window features plus where the piece sits on the beat and in its bars."""
    from .features import piece_features

    metre = Metre.of(steps)
    return np.concatenate([piece_features(steps),
                           [metre.on_beat, metre.downbeat, metre.best_phase_share, float(metre.steady)]])


def grouped_two_sample(first: list[list[Step]], first_groups: list, real: list[list[Step]],
                       real_groups: list[str]) -> tuple[float, float]:
    """Random-forest two-sample accuracy of ``first`` (generated pieces, with their runs, or windows of
    other real pieces) against real held-out ``real``, with folds that hold out whole groups (variations
    of one seed resemble each other, as do windows of one piece: a test that matches siblings
    measures that, not realism), with its 95% interval half-width."""
    from .metrics import forest_accuracy

    x = np.array([long_features(p) for p in first + real])
    y = np.array([0] * len(first) + [1] * len(real))
    return forest_accuracy(x, y, groups=[f"first {g}" for g in first_groups] + [f"real {g}" for g in real_groups])


@dataclass(frozen=True)
class Window:
    """A stretch of a piece a listener hears: ``length`` steps from ``start`` (the rest of the piece
    where it ends sooner)."""

    piece: Piece
    start: int
    length: int = LONG_STEPS

    @property
    def steps(self) -> list[Step]:
        return self.piece.steps[self.start:self.start + self.length]

    def seed(self, length: int) -> list[Step]:
        """The held-out music a generation run continues in this window's place: the ``length``
        steps before it, or, where it opens its piece, the piece's opening (at most half of the
        piece, so that a run continues a short tune rather than starting after its end)."""
        if self.start >= length:
            return self.piece.steps[self.start - length:self.start]
        return self.piece.steps[:min(length, len(self.piece.steps) // 2)]


def real_windows(pieces: list[Piece], count: int = REAL_PIECES, length: int = LONG_STEPS) -> list[Window]:
    """``count`` windows of ``length`` steps of held-out pieces: the first window of every piece in a
    fixed shuffled order (a whole piece when shorter), then the second of those long enough, and so
    on, so a collection of few long pieces (songs, quartet movements) still gives ``count`` windows,
    each a stretch a listener hears. Each piece's windows are then put together, so a run's
    variations are paired with windows of the piece its seed comes from."""
    order = np.random.default_rng(0).permutation(len(pieces))
    chosen = [pieces[i] for i in order if len(pieces[i].steps) >= 2]
    windows = [Window(piece, start, length)
               for start in range(0, max((len(p.steps) for p in chosen), default=0), length)
               for piece in chosen if start == 0 or len(piece.steps) >= start + length][:count]
    first = {}
    for window in windows:
        first.setdefault(window.piece.id, len(first))
    return sorted(windows, key=lambda w: first[w.piece.id])


def training_windows(train: list[Piece], windows: list[Window]) -> list[Window]:
    """As many windows of training pieces as ``windows`` (chosen as ``real_windows`` chooses them),
    each as long as the held-out window it is paired with: real music the model learned from, which
    the two-sample test should find hard to tell from held-out music, the floor a generated set is
    read against."""
    chosen = real_windows(train, count=len(windows), length=windows[0].length if windows else LONG_STEPS)
    return [Window(ours.piece, ours.start, min(len(ours.steps), len(theirs.steps)))
            for ours, theirs in zip(chosen, windows)]


def run_seeds(windows: list[Window], seed_length: int, runs: int = RUNS) -> list[list[Step]]:
    """The seed of each generation run: held-out music of the same piece as the first real window
    its variations are paired with, so the generated set continues the pieces, metres and keys it
    is compared with, in the same shares (seeds from other pieces weigh a collection of few long
    pieces' metres differently from its real windows)."""
    return [windows[first].seed(seed_length) for first in range(0, len(windows), VARIATIONS)][:runs]


def generate_runs(checkpoint, seeds: list[list[Step]], *, rhythm: str = "learned", length: int = LONG_STEPS,
                  strip_positions: bool = False) -> tuple[list[list[Step]], list[int]]:
    """What ``genre-lstm generate --seed-midi <seed> --length 400 --variations 4 --random-seed S``
    makes for each seed in turn (S = 11, 12, ...), with the run of each piece.
    ``strip_positions``: the seeds without their places in bars, as every file was written before
    positions were kept (the "before" of a checkpoint saved before this change)."""
    from dataclasses import replace

    from ..model.generate import generate
    from ..request import GenerationRequest

    pieces, groups = [], []
    for run, seed in enumerate(seeds):
        if strip_positions:
            seed = [replace(s, position=None, meter=None) for s in seed]
        request = GenerationRequest(length=length, rhythm=rhythm, variations=VARIATIONS,
                                    random_seed=FIRST_RANDOM_SEED + run)
        for piece in generate(checkpoint, seed, request):
            pieces.append(piece.steps)
            groups.append(run)
    return pieces, groups


def evaluate_long_form(genre_id: str, *, previous=None) -> dict:
    """Every long-form figure of one shipped genre: real held-out music, this checkpoint's learned
    rhythm and the paper's random offsets, and (``previous``: a checkpoint saved before this change)
    that checkpoint generating as it did before."""
    from ..store.genres import get_genre
    from ..store.hub import get_checkpoint
    from ..training.corpus import read_collection, split_pieces
    from ..training.train import SEED_WINDOW, TrainSettings, pieces_for_training
    from .features import pieces_as_lines

    genre = get_genre(genre_id)
    checkpoint = get_checkpoint(genre_id)
    split = split_pieces(pieces_for_training(read_collection(genre.collection).pieces, TrainSettings(), checkpoint)[0])
    windows = real_windows(split.valid + split.test)
    real_steps, real_ids = [w.steps for w in windows], [w.piece.id for w in windows]
    seeds = run_seeds(windows, SEED_WINDOW)
    sets = {"learned": generate_runs(checkpoint, seeds),
            "random offsets": generate_runs(checkpoint, seeds, rhythm="random")}
    if previous is not None:
        sets["before"] = generate_runs(previous, seeds, strip_positions=True)
    parts = tuple(checkpoint.parts)
    real = pieces_as_lines(real_steps, parts)  # a model with parts: its pitched parts as one line, as the short test
    figures = {"genre": genre_id, "real": {**set_figures(real), "sources": len(set(real_ids))}, "generated": {}}
    train = training_windows(split.train, windows)
    train_steps = pieces_as_lines([w.steps for w in train], parts)
    figures["real_train"] = {**set_figures(train_steps), "sources": len({w.piece.id for w in train}),
                             "two_sample": grouped_two_sample(train_steps, [w.piece.id for w in train], real, real_ids)}
    for name, (pieces, groups) in sets.items():
        cut = pieces_as_lines(equal_lengths(pieces, real_steps), parts)
        pieces = pieces_as_lines(pieces, parts)
        figures["generated"][name] = {
            **set_figures(cut),
            "steady_whole": set_figures(pieces)["steady"],
            "two_sample": grouped_two_sample(cut, groups[:len(cut)], real[:len(cut)], real_ids[:len(cut)]),
        }
    return figures


def long_form_checks(result: dict) -> dict[str, bool]:
    """The issue's long-form targets for one genre (learned rhythm of this checkpoint)."""
    real, ours = result["real"], result["generated"]["learned"]
    return {
        "on-beat share within 0.10": abs(ours["on_beat"] - real["on_beat"]) <= 0.10,
        "downbeat share within 0.10": abs(ours["downbeat"] - real["downbeat"]) <= 0.10,
        "steadiness within 0.10": abs(ours["steady"] - real["steady"]) <= 0.10,
        "pitch range within 1.15x": ours["pitch_range"] <= 1.15 * real["pitch_range"]
                                    and real["pitch_range"] <= 1.15 * ours["pitch_range"],
        "long-window two-sample <= 0.80": ours["two_sample"][0] <= 0.80,
    }
