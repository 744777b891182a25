"""Held-out figures: likelihood on one open basis, copying, two-sample accuracy, Yang-Lerch overlaps,
muspy's sanity metrics and genre accuracy; for models with parts, each part's figures (its notes
inside the part's real range, its melodic motion) and the held-out steps no token represents.

Likelihood is scored on one open basis for every model: an exact held-out pitch set either has its
own token, or is the rare-chord token times a back-off probability of that pitch set (a chord-size
distribution times normalised per-pitch frequencies), so no held-out step is ever skipped or
given probability zero. Copying is measured as the share of generated 8-grams of
(interval, duration) found in the training pieces, and the longest run shared with one.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from ..model.network import input_names
from ..model.presets import PART, PREVIOUS_INPUT
from ..model.tokenizer import RARE_ID, EncodedPiece, Vocabulary
from ..music.events import Step
from ..training.corpus import Piece

LN2 = math.log(2)


class PitchSetBackoff:
    """P(pitch set | rare chord): size distribution x normalised product of pitch frequencies."""

    def __init__(self, pieces: list[Piece]):
        sizes, pitches = Counter(), Counter()
        for piece in pieces:
            for step in piece.steps:
                sizes[len(step.pitches)] += 1
                pitches.update(step.pitches)
        total = sum(sizes.values()) + 16
        self.size_logp = {k: math.log((sizes.get(k, 0) + 1) / total) for k in range(1, 17)}
        counts = np.array([pitches.get(p, 0) + 0.5 for p in range(128)])
        self.freq = counts / counts.sum()
        # e[k] = sum over all k-subsets of the product of frequencies (elementary symmetric polynomials)
        e = np.zeros(17)
        e[0] = 1.0
        for f in self.freq:
            e[1:] = e[1:] + f * e[:-1]
        self.log_norm = np.log(np.maximum(e, 1e-300))

    def log_prob(self, pitches: tuple[int, ...]) -> float:
        k = min(len(pitches), 16)
        return self.size_logp[k] + float(np.log(self.freq[list(pitches[:16])]).sum()) - float(self.log_norm[k])


@dataclass
class Likelihood:
    """Mean nats per held-out step (end tokens included), by part, and top-1 token accuracy."""

    token: float
    duration: float | None
    shift: float | None
    accuracy: float
    steps: int
    part: float | None = None  # models with parts: the part head's

    @property
    def total(self) -> float | None:
        return None if self.duration is None else self.token + self.duration + self.shift + (self.part or 0.0)


def exact_stream(pieces: list[Piece], vocab: Vocabulary) -> tuple[EncodedPiece, list[tuple[int, ...]]]:
    """The training stream form of ``pieces`` (rare chords as RARE_ID) and the exact pitch set at
    each position (empty for the end tokens), for the back-off."""
    from ..training.train import pieces_to_stream

    sets = [()]
    for piece in pieces:
        if piece.steps:  # pieces_to_stream skips empty pieces too
            sets += [s.pitches for s in piece.steps] + [()]
    return pieces_to_stream(pieces, vocab), sets


def score_model(checkpoint, pieces: list[Piece], backoff: PitchSetBackoff, batch: int = 32,
                per_step: dict | None = None) -> Likelihood:
    """The network's held-out likelihood: each piece scored whole, after an end token
    (``per_step`` receives each piece's token nats per step, by piece id)."""
    vocab, model = checkpoint.vocab, checkpoint.model
    parted = checkpoint.config.has_parts
    nll = {"token": [], "duration": [], "shift": [], PART: []}
    hits = []
    ordered = sorted(pieces, key=lambda p: len(p.steps))
    for start in range(0, len(ordered), batch):
        group = ordered[start:start + batch]
        encoded = [exact_stream([p], vocab) for p in group]
        width = max(len(e.tokens) for e, _ in encoded)
        arrays = {}
        for row, (e, _) in enumerate(encoded):
            # the teacher-forced rhythm terms and the metric inputs are those of the step being predicted
            given = {"token": e.tokens, "duration": e.durations, "shift": e.shifts, "next_token": e.tokens[1:],
                     "next_duration": e.durations[1:], "position": e.positions[1:], "meter": e.meters[1:],
                     "low": e.lows, "high": e.highs, PART: e.parts, "next_part": e.parts[1:], PREVIOUS_INPUT: e.previous}
            for name in input_names(checkpoint.config) + checkpoint.config.family.teacher_inputs(checkpoint.config):
                values = given[name]
                arrays.setdefault(name, np.zeros((len(group), width), np.int32))[row, :len(values)] = values
        outputs = model(arrays, training=False)
        for row, (e, sets) in enumerate(encoded):
            n = len(e.tokens) - 1
            heads = (("token", e.tokens), ("duration", e.durations), ("shift", e.shifts)) + (((PART, e.parts),) if parted else ())
            for head, targets in heads:
                logits = np.asarray(outputs[head][row, :n], dtype=np.float64)
                logp = logits - _logsumexp(logits)
                picked = -logp[np.arange(n), targets[1:]]
                if head == "token":
                    picked = picked + [-backoff.log_prob(sets[i + 1]) if targets[i + 1] == RARE_ID else 0.0
                                       for i in range(n)]
                    hits += list(np.argmax(logits, axis=1) == targets[1:])
                    if per_step is not None:
                        per_step[group[row].id] = picked
                nll[head] += list(picked)
    return Likelihood(float(np.mean(nll["token"])), float(np.mean(nll["duration"])), float(np.mean(nll["shift"])),
                      float(np.mean(hits)), len(hits), float(np.mean(nll[PART])) if parted else None)


def unrepresentable_share(pieces: list[Piece], vocab: Vocabulary) -> float:
    """The share of ``pieces``' steps whose exact pitch set has no token of ``vocab``."""
    steps = [step for piece in pieces for step in piece.steps]
    return sum(not vocab.has(step.pitches) for step in steps) / max(1, len(steps))


def part_figures(pieces: list[list[Step]], ranges: list[tuple[int, int] | None]) -> list[dict[str, float]]:
    """Per part: its share of the steps, the share of its notes inside its real range (``ranges``),
    and its melodic motion between consecutive steps of its top line (repeats: the same pitch;
    steps: 1-2 semitones; leaps: 3 or more)."""
    figures = []
    total = sum(len(steps) for steps in pieces)
    for index, known in enumerate(ranges):
        lines = [[max(s.pitches) for s in steps if s.part == index and s.pitches] for steps in pieces]
        notes = [p for steps in pieces for s in steps if s.part == index for p in s.pitches]
        moves = np.abs(np.concatenate([np.diff(line) for line in lines if len(line) > 1] or [np.zeros(0)]))
        inside = sum(known[0] <= p <= known[1] for p in notes) if known else 0
        figures.append({"steps": sum(map(len, lines)) / max(1, total), "in_range": inside / max(1, len(notes)),
                        "repeats": float(np.mean(moves == 0)) if len(moves) else 0.0,
                        "steps_1_2": float(np.mean((moves >= 1) & (moves <= 2))) if len(moves) else 0.0,
                        "leaps": float(np.mean(moves >= 3)) if len(moves) else 0.0})
    return figures


def interval_duration_grams(steps: list[Step], n: int = 8) -> list[tuple]:
    """n-grams of (interval of the top voice, duration): transposition-invariant phrases."""
    tops = [max(s.pitches) for s in steps]
    symbols = [(tops[i] - tops[i - 1], round(steps[i].duration * 12)) for i in range(1, len(steps))]
    return [tuple(symbols[i:i + n]) for i in range(len(symbols) - n + 1)]


def copy_figures(pieces: list[list[Step]], training: list[Piece], n: int = 8) -> tuple[float, int]:
    """(share of n-grams found in the training pieces, longest run of steps shared with one)."""
    known = set()
    index: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    train_symbols = []
    for number, piece in enumerate(training):
        grams = interval_duration_grams(piece.steps, n)
        known.update(grams)
        for position, gram in enumerate(grams):
            if len(index[gram]) < 50:
                index[gram].append((number, position))
        train_symbols.append(interval_duration_grams(piece.steps, 1))
    found = total = longest = 0
    for steps in pieces:
        grams = interval_duration_grams(steps, n)
        symbols = interval_duration_grams(steps, 1)
        total += len(grams)
        for position, gram in enumerate(grams):
            if gram not in known:
                continue
            found += 1
            for number, at in index[gram]:
                run, other = n, train_symbols[number]
                while position + run < len(symbols) and at + run < len(other) and symbols[position + run] == other[at + run]:
                    run += 1
                longest = max(longest, run + 1)  # n symbols span n + 1 steps
    return (found / total if total else 0.0), longest


def _logsumexp(x: np.ndarray) -> np.ndarray:
    top = x.max(axis=1, keepdims=True)
    return top + np.log(np.exp(x - top).sum(axis=1, keepdims=True))


MUSPY_METRICS = ("pitch_class_entropy", "scale_consistency", "empty_beat_rate", "polyphony")


def muspy_figures(pieces: list[list[Step]]) -> dict[str, float]:
    """Means over pieces of muspy's sanity metrics (each piece written to MIDI and read by muspy)."""
    import tempfile

    import muspy

    from ..music.midi_io import steps_to_muspy

    values: dict[str, list[float]] = {name: [] for name in MUSPY_METRICS}
    with tempfile.TemporaryDirectory() as folder:
        for steps in pieces:
            music = steps_to_muspy(steps, folder)
            for name in MUSPY_METRICS:
                value = float(getattr(muspy, name)(music))
                if math.isfinite(value):
                    values[name].append(value)
    return {name: float(np.mean(v)) if v else float("nan") for name, v in values.items()}


def genre_accuracy(results: list[dict]) -> dict[str, dict[str, float]]:
    """A classifier trained on every real training window of every genre (classes weighted by their
    window counts): the share of each genre's generated windows it assigns to that genre, and of its
    real held-out windows (what the features can tell apart at all)."""
    from sklearn.ensemble import RandomForestClassifier

    from .features import piece_features

    x, y = [], []
    for label, r in enumerate(results):
        x += [piece_features(p) for p in r["_sets"]["all_train"]]
        y += [label] * len(r["_sets"]["all_train"])
    forest = RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1, class_weight="balanced")
    forest.fit(np.array(x), np.array(y))
    shares = {}
    for label, r in enumerate(results):
        shares[r["genre"]] = {
            name: float(np.mean(forest.predict(np.array([piece_features(p) for p in r["_sets"][name]])) == label))
            for name in ("generated", "held_out")}
    return shares


TWO_SAMPLE_REPEATS = 5  # cross-validations averaged, each with its own folds and forest: no one split decides a figure


def forest_accuracy(x: np.ndarray, y: np.ndarray, groups: list | None = None) -> tuple[float, float]:
    """How well a random forest tells the classes of ``y`` apart from ``x``: the mean accuracy of
    ``TWO_SAMPLE_REPEATS`` 5-fold cross-validations, each with its own folds and forest (one split
    moves the figure by several points), with the 95% interval half-width of one. With ``groups``,
    every group is kept in one fold and the folds are as equal in size as the groups allow; each
    cross-validation breaks ties between groups of one size in its own random order."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict

    accuracies = []
    for repeat in range(TWO_SAMPLE_REPEATS):
        forest = RandomForestClassifier(n_estimators=200, random_state=repeat, n_jobs=1)
        if groups is None:
            predicted = cross_val_predict(forest, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=repeat))
        else:
            predicted = cross_val_predict(forest, x, y, groups=_shuffled_names(groups, repeat), cv=GroupKFold(5))
        accuracies.append(float(np.mean(predicted == y)))
    accuracy = float(np.mean(accuracies))
    return accuracy, 1.96 * math.sqrt(accuracy * (1 - accuracy) / len(y))


def _shuffled_names(groups: list, seed: int) -> np.ndarray:
    """The same grouping with every group renamed by a number in a random order."""
    names = sorted(set(groups))
    number = dict(zip(names, np.random.default_rng(seed).permutation(len(names)).tolist()))
    return np.array([number[g] for g in groups])


def two_sample_accuracy(first: list[list[Step]], second: list[list[Step]]) -> tuple[float, float]:
    """How well a random forest tells two sets of pieces apart (``forest_accuracy`` on equal numbers
    of each), with its 95% interval half-width. 0.5 means indistinguishable."""
    from .features import piece_features

    count = min(len(first), len(second))
    x = np.array([piece_features(p) for p in first[:count] + second[:count]])
    return forest_accuracy(x, np.array([0] * count + [1] * count))


def overlap_area(intra: np.ndarray, inter: np.ndarray) -> float:
    """Overlapping area of two distance distributions (Gaussian kernel densities on a common grid)."""
    from scipy.stats import gaussian_kde

    values = np.concatenate([intra, inter])
    if np.ptp(values) == 0:
        return 1.0
    grid = np.linspace(values.min(), values.max(), 400)
    densities = []
    for sample in (intra, inter):
        jitter = sample + np.random.default_rng(0).normal(0, 1e-6 + 1e-3 * np.ptp(values), len(sample))
        densities.append(gaussian_kde(jitter)(grid))
    return float(np.trapezoid(np.minimum(*densities), grid))


def yang_lerch_overlaps(generated: list[list[Step]], real: list[list[Step]]) -> dict[str, float]:
    """Per feature: overlap of generated-generated distances with generated-real distances (1 = same)."""
    from .features import YANG_LERCH

    result = {}
    for name, feature in YANG_LERCH.items():
        g = np.array([feature(p) for p in generated])
        r = np.array([feature(p) for p in real])
        intra = np.array([np.linalg.norm(g[i] - g[j]) for i in range(len(g)) for j in range(i + 1, len(g))])
        inter = np.array([np.linalg.norm(a - b) for a in g for b in r])
        result[name] = overlap_area(intra, inter)
    return result
