"""Held-out quality of a genre's checkpoint, measured against n-gram baselines.

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

from ..training.corpus import Piece
from ..music.events import Step
from ..model.tokenizer import END_ID, RARE_ID, EncodedPiece, Vocabulary

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


class KneserNey:
    """Interpolated Kneser-Ney n-gram model over token ids (order 1 = smoothed unigram)."""

    def __init__(self, order: int, vocab_size: int, discount: float = 0.75):
        self.order, self.vocab_size, self.discount = order, vocab_size, discount

    def fit(self, stream: np.ndarray) -> "KneserNey":
        tokens = [int(t) for t in stream]
        raw = [defaultdict(Counter) for _ in range(self.order)]
        for i, word in enumerate(tokens):
            for k in range(min(self.order, i + 1)):
                raw[k][tuple(tokens[i - k:i])][word] += 1
        tables = [defaultdict(Counter) for _ in range(self.order)]
        tables[-1] = raw[-1]
        for k in range(self.order - 1):  # continuation counts: distinct left extensions
            for context, words in raw[k + 1].items():
                for word in words:
                    tables[k][context[1:]][word] += 1
        self.tables = [{c: (w, sum(w.values()), len(w)) for c, w in t.items()} for t in tables]
        return self

    def prob(self, history: list[int], word: int) -> float:
        p = 1.0 / self.vocab_size
        for k in range(min(self.order, len(history) + 1)):
            entry = self.tables[k].get(tuple(history[len(history) - k:]))
            if entry is None:
                continue
            words, total, types = entry
            p = max(words.get(word, 0) - self.discount, 0.0) / total + self.discount * types / total * p
        return p


@dataclass
class Likelihood:
    """Mean nats per held-out step (end tokens included), by part, and top-1 token accuracy."""

    token: float
    duration: float | None
    shift: float | None
    accuracy: float
    steps: int

    @property
    def total(self) -> float | None:
        return None if self.duration is None else self.token + self.duration + self.shift


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
    nll = {"token": [], "duration": [], "shift": []}
    hits = []
    ordered = sorted(pieces, key=lambda p: len(p.steps))
    for start in range(0, len(ordered), batch):
        group = ordered[start:start + batch]
        encoded = [exact_stream([p], vocab) for p in group]
        width = max(len(e.tokens) for e, _ in encoded)
        names = ("token", "duration", "shift", "next_token", "next_duration")
        arrays = {h: np.zeros((len(group), width), np.int32) for h in names}
        for row, (e, _) in enumerate(encoded):
            for name, values in zip(names, (e.tokens, e.durations, e.shifts, e.tokens[1:], e.durations[1:])):
                arrays[name][row, :len(values)] = values
        outputs = model(arrays, training=False)
        for row, (e, sets) in enumerate(encoded):
            n = len(e.tokens) - 1
            for head, targets in (("token", e.tokens), ("duration", e.durations), ("shift", e.shifts)):
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
                      float(np.mean(hits)), len(hits))


PAPER_SCORED_STEPS = 3000  # the paper's model re-runs a 100-id window per step: a fixed sample of steps


def score_paper(checkpoint, pieces: list[Piece], backoff: PitchSetBackoff, lstm_per_step: dict,
                count: int = PAPER_SCORED_STEPS, batch: int = 256) -> dict:
    """The paper preset's token likelihood as it was trained: the previous 100 ids of the test
    pieces' stream (end tokens between pieces) -> the next, on a fixed sample of steps; with the
    LSTM's nats on exactly those steps (``lstm_per_step`` from ``score_model``) beside it."""
    stream, sets = exact_stream(pieces, checkpoint.vocab)
    window = checkpoint.config.window
    tokens = np.concatenate([np.full(window, END_ID, np.int64), stream.tokens])
    lstm = np.concatenate([lstm_per_step[p.id] for p in pieces if p.steps])
    # targets with a full window of real ids before them, as in the paper's training windows
    candidates = np.arange(min(window, len(stream.tokens) - 1), len(stream.tokens))
    targets = np.sort(np.random.default_rng(0).choice(candidates, size=min(count, len(candidates)), replace=False))
    nll, hits = [], []
    for start in range(0, len(targets), batch):
        chosen = targets[start:start + batch]
        grid = chosen[:, None] + np.arange(window)[None, :]  # tokens is padded by ``window`` at the front
        x = (tokens[grid] / checkpoint.config.vocab_size).astype(np.float32)[..., None]
        probabilities = np.asarray(checkpoint.model(x, training=False), dtype=np.float64)
        wanted = stream.tokens[chosen]
        nll += list(-np.log(np.clip(probabilities[np.arange(len(chosen)), wanted], 1e-30, None)))
        hits += list(np.argmax(probabilities, axis=1) == wanted)
    nll = np.array(nll) - [backoff.log_prob(sets[i]) if stream.tokens[i] == RARE_ID else 0.0 for i in targets]
    return {**Likelihood(float(np.mean(nll)), None, None, float(np.mean(hits)), len(nll)).__dict__,
            "lstm_token_same_steps": float(np.mean(lstm[targets - 1]))}


def score_ngram(train: list[Piece], test: list[Piece], vocab: Vocabulary, order: int,
                backoff: PitchSetBackoff) -> Likelihood:
    """An n-gram model of the token stream, on the same basis as the network."""
    train_stream, _ = exact_stream(train, vocab)
    model = KneserNey(order, len(vocab)).fit(train_stream.tokens)
    test_stream, sets = exact_stream(test, vocab)
    tokens = [int(t) for t in test_stream.tokens]
    nll = []
    for i in range(1, len(tokens)):
        history = tokens[max(0, i - order + 1):i]
        p = model.prob(history, tokens[i])
        nll.append(-math.log(p) - (backoff.log_prob(sets[i]) if tokens[i] == RARE_ID else 0.0))
    return Likelihood(float(np.mean(nll)), None, None, float("nan"), len(nll))


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


def evaluate_genre(genre_id: str, *, generated_count: int = 100, orders: tuple[int, ...] = (1, 2, 3, 4, 5),
                   paper_baseline=None) -> dict:
    """Every figure for one shipped genre on its held-out pieces (the compared sets are returned
    under ``_sets`` for the cross-genre classifier).

    Real windows are non-overlapping windows of held-out pieces; each generated counterpart
    continues the real steps before its window (nothing, for a window at a piece's start), so
    both sets cover the same positions of pieces.
    """
    from ..training.corpus import read_collection, split_pieces
    from ..store.genres import get_genre
    from ..store.hub import get_checkpoint
    from ..training.train import pieces_to_stream

    genre = get_genre(genre_id)
    checkpoint = get_checkpoint(genre_id)
    split = split_pieces(read_collection(genre.collection).pieces)
    recorded = checkpoint.info.get("training", {}).get("held_out_pieces", {}).get("test")
    if recorded is not None and recorded != [p.id for p in split.test]:
        raise ValueError(f"{genre_id}: the corpus split differs from the one the checkpoint was trained on")
    backoff = PitchSetBackoff(split.train)
    per_step: dict = {}
    figures = {"genre": genre_id, "test_pieces": len(split.test),
               "model": score_model(checkpoint, split.test, backoff, per_step=per_step).__dict__}
    figures["ngrams"] = {n: score_ngram(split.train, split.test, checkpoint.vocab, n, backoff).__dict__
                         for n in orders}
    if paper_baseline is not None:
        figures["paper"] = score_paper(paper_baseline, split.test, backoff, per_step)
        figures["paper"]["training_seconds"] = paper_baseline.info.get("training", {}).get("seconds")
    held_out = split.valid + split.test
    length = next((n for n in (64, 48, 32, 24, 16) if len(window_positions(held_out, n)) >= generated_count), 16)
    positions = window_positions(held_out, length)[:max(generated_count, 100)]
    real = [held_out[i].steps[at:at + length] for i, at in positions]
    contexts = [held_out[i].steps[max(0, at - 64):at] for i, at in positions]
    ours = _continue_each(checkpoint, contexts, length, "learned")
    random_rhythm = _continue_each(checkpoint, contexts, length, "random")
    stream = pieces_to_stream(split.train, checkpoint.vocab)
    markov = {n: _markov_pieces(MarkovChain(n).fit(stream), checkpoint.vocab, contexts, length) for n in (3, 5)}
    train_positions = window_positions(split.train, length)
    picked = np.random.default_rng(1).permutation(len(train_positions))[:len(real)]
    real_train = [split.train[train_positions[j][0]].steps[train_positions[j][1]:train_positions[j][1] + length]
                  for j in picked]
    figures["window"] = {"length": length, "count": len(real)}
    figures["two_sample"] = {"lstm": two_sample_accuracy(ours, real), "markov3": two_sample_accuracy(markov[3], real),
                             "markov5": two_sample_accuracy(markov[5], real),
                             "train_vs_held_out": two_sample_accuracy(real_train, real)}
    figures["yang_lerch"] = {"learned": yang_lerch_overlaps(ours, real), "random": yang_lerch_overlaps(random_rhythm, real)}
    figures["copy"] = {"generated": copy_figures(ours, split.train), "real_held_out": copy_figures(real, split.train)}
    figures["muspy"] = {"real held-out": muspy_figures(real), "generated": muspy_figures(ours),
                        "generated, random offsets": muspy_figures(random_rhythm)}
    figures["_sets"] = {"generated": ours, "held_out": real,
                        "all_train": [split.train[i].steps[at:at + length] for i, at in train_positions]}
    return figures


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


def window_positions(pieces: list[Piece], length: int) -> list[tuple[int, int]]:
    """(piece index, start) of every non-overlapping full window, in a fixed shuffled order."""
    positions = [(i, at) for i, p in enumerate(pieces) for at in range(0, len(p.steps) - length + 1, length)]
    order = np.random.default_rng(0).permutation(len(positions))
    return [positions[j] for j in order]


def _continue_each(checkpoint, contexts, length, rhythm) -> list[list[Step]]:
    from ..model.generate import GenerationSettings, generate

    pieces = []
    for k, context in enumerate(contexts):
        settings = GenerationSettings(length=length, rhythm=rhythm, random_seed=1000 + k,
                                      temperature=checkpoint.defaults.temperature, top_k=checkpoint.defaults.top_k)
        pieces.append(generate(checkpoint, context, settings)[0].steps)
    return pieces


def _markov_pieces(chain: "MarkovChain", vocab: Vocabulary, contexts, length) -> list[list[Step]]:
    rng = np.random.default_rng(0)
    pieces = []
    for context in contexts:
        seed = vocab.encode(context, exact=True)
        history = [(END_ID, 0, 0)] + list(zip(seed.tokens.tolist(), seed.durations.tolist(), seed.shifts.tolist()))
        pieces.append(vocab.decode(*zip(*chain.sample(history, length, rng))))
    return pieces


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


RHYTHM_DISTANCES = ("inter-onset interval", "note length")


def target_checks(result: dict, genre_share: dict | None = None) -> dict[str, bool | None]:
    """The issue's targets for one genre, each met (True), missed (False) or not measured (None)."""
    model, ngrams, two = result["model"], result["ngrams"], result["two_sample"]
    best = min(g["token"] for g in ngrams.values())
    paper = result.get("paper")
    (g_share, g_run), (r_share, r_run) = result["copy"]["generated"], result["copy"]["real_held_out"]
    learned, random = result["yang_lerch"]["learned"], result["yang_lerch"]["random"]
    return {
        ">= 5% better than the best n-gram": (best - model["token"]) / best >= 0.05,
        "better than the paper preset": None if paper is None else paper["lstm_token_same_steps"] < paper["token"],
        "two-sample <= 0.75": two["lstm"][0] <= 0.75,
        "two-sample >= 0.10 below order-5 Markov": two["lstm"][0] <= two["markov5"][0] - 0.10 + 1e-9,
        "genre accuracy >= 0.90": None if genre_share is None else genre_share["generated"] >= 0.90,
        "copying <= 1.5x real": g_share <= 1.5 * r_share + 1e-9 and g_run <= 1.5 * r_run,
        "learned rhythm beats random offsets": all(learned[k] > random[k] for k in RHYTHM_DISTANCES),
    }


def _targets_section(results: list[dict], accuracy: dict | None) -> list[str]:
    checks = {r["genre"]: target_checks(r, (accuracy or {}).get(r["genre"])) for r in results}
    names = list(next(iter(checks.values())))
    mark = {True: "met", False: "**missed**", None: "not measured"}
    return ["## Targets (met / missed, from the tables below)", "",
            "| genre | " + " | ".join(names) + " |", "|---|" + "---|" * len(names),
            *(f"| {genre} | " + " | ".join(mark[c[n]] for n in names) + " |" for genre, c in checks.items()), ""]


def evaluation_markdown(results: list[dict], command: str, accuracy: dict | None = None) -> str:
    """EVALUATION.md from ``evaluate_genre`` results."""
    lines = ["# Evaluation", "", f"Regenerate with `{command}`. Held-out test pieces of each genre (split by piece);",
             "nats per step, end-of-piece steps included; token = exact pitch set on an open basis (rare",
             "chords: rare-token probability x pitch-set back-off), so no step is skipped.", "",
             *_targets_section(results, accuracy),
             "## Likelihood (nats per step, lower is better)", "",
             "| genre | test steps | LSTM token | LSTM duration | LSTM shift | LSTM top-1 | best n-gram token (order) | LSTM vs best n-gram |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        model = r["model"]
        best_order, best = min(((n, g["token"]) for n, g in r["ngrams"].items()), key=lambda x: x[1])
        gain = 100 * (best - model["token"]) / best
        lines.append(f"| {r['genre']} | {model['steps']} | {model['token']:.3f} | {model['duration']:.3f} | "
                     f"{model['shift']:.3f} | {model['accuracy']:.3f} | {best:.3f} ({best_order}) | "
                     f"{gain:+.1f}% |")
    papers = [r for r in results if "paper" in r]
    if papers:
        lines += ["", "## The paper's preset (3 x LSTM(512), 100-id windows), trained on the same pieces for the same time",
                  "", f"Pitch/chord nats per step on the same {PAPER_SCORED_STEPS:,} sampled held-out steps (the paper's "
                  "model re-runs a 100-id window for each); `genre-lstm evaluate --train-baselines` rebuilds the "
                  "baselines into baselines/. In these budgets the paper's window training gets through less than "
                  "one epoch, and on the chord genres its held-out loss ends well above its training loss "
                  "(inference-mode BatchNorm statistics not yet settled): that is what its design reaches in the time "
                  "ours took.", "",
                  "| genre | training time | steps scored | paper token | paper top-1 | LSTM token | LSTM better by |",
                  "|---|---|---|---|---|---|---|"]
        for r in papers:
            p = r["paper"]
            ours = p["lstm_token_same_steps"]
            lines.append(f"| {r['genre']} | {(p['training_seconds'] or 0) / 60:.1f} min | {p['steps']:,} | {p['token']:.3f} | "
                         f"{p['accuracy']:.3f} | {ours:.3f} | {100 * (p['token'] - ours) / p['token']:+.1f}% |")
    lines += ["", "## n-gram baselines (interpolated Kneser-Ney, token part, nats per step)", "",
              "| genre | " + " | ".join(f"order {n}" for n in results[0]["ngrams"]) + " |",
              "|---|" + "---|" * len(results[0]["ngrams"])]
    for r in results:
        lines.append(f"| {r['genre']} | " + " | ".join(f"{g['token']:.3f}" for g in r["ngrams"].values()) + " |")
    lines += ["", "## Real vs generated: random-forest two-sample accuracy (0.5 = indistinguishable, +/- 95%)", "",
              "Windows of held-out pieces; each generated window continues the real steps before it.", "",
              "| genre | window (steps) x count | LSTM | order-3 Markov | order-5 Markov | training real vs held-out real (floor) |",
              "|---|---|---|---|---|---|"]
    for r in results:
        t = r["two_sample"]
        lines.append(f"| {r['genre']} | {r['window']['length']} x {r['window']['count']} | " + " | ".join(f"{t[k][0]:.3f} +/- {t[k][1]:.3f}"
                                                     for k in ("lstm", "markov3", "markov5", "train_vs_held_out")) + " |")
    if accuracy:
        lines += ["", "## Genre accuracy (classifier trained on every real training window of all genres, applied to generated)", "",
                  "The same classifier on real held-out windows says how far these features can tell the genres "
                  "apart at all.", "",
                  "| genre | share of generated windows assigned to their own genre | real held-out windows |",
                  "|---|---|---|"]
        lines += [f"| {g} | {share['generated']:.3f} | {share['held_out']:.3f} |" for g, share in accuracy.items()]
    lines += ["", "## Distribution match (Yang and Lerch 2018): overlap of intra-set and inter-set distances",
              "", "1 = the generated set is as close to the real held-out set as to itself. learned / random rhythm.", "",
              "| genre | " + " | ".join(results[0]["yang_lerch"]["learned"]) + " |",
              "|---|" + "---|" * len(results[0]["yang_lerch"]["learned"])]
    for r in results:
        y = r["yang_lerch"]
        lines.append(f"| {r['genre']} | " + " | ".join(f"{y['learned'][k]:.2f} / {y['random'][k]:.2f}"
                                                     for k in y["learned"]) + " |")
    lines += ["", "## Copying (8-grams of top-voice interval and duration)", "",
              "| genre | generated: share of 8-grams in training | generated: longest shared run | "
              "real held-out: share | real held-out: longest run |", "|---|---|---|---|---|"]
    for r in results:
        (g_share, g_run), (r_share, r_run) = r["copy"]["generated"], r["copy"]["real_held_out"]
        lines.append(f"| {r['genre']} | {g_share:.3f} | {g_run} | {r_share:.3f} | {r_run} |")
    lines += ["", "## muspy's sanity metrics (each window written to MIDI, read by muspy; means)", "",
              "| genre | set | " + " | ".join(name.replace("_", " ") for name in MUSPY_METRICS) + " |",
              "|---|---|" + "---|" * len(MUSPY_METRICS)]
    for r in results:
        for label, figures in r.get("muspy", {}).items():
            lines.append(f"| {r['genre']} | {label} | " + " | ".join(f"{figures[n]:.3f}" for n in MUSPY_METRICS) + " |")
    return "\n".join(lines) + "\n"


class MarkovChain:
    """Order-n Markov chain over whole steps (token, duration, shift), backing off to shorter contexts."""

    def __init__(self, order: int):
        self.order = order

    def fit(self, stream: EncodedPiece) -> "MarkovChain":
        symbols = list(zip(stream.tokens.tolist(), stream.durations.tolist(), stream.shifts.tolist()))
        self.tables = [defaultdict(Counter) for _ in range(self.order)]
        for i, symbol in enumerate(symbols):
            for k in range(min(self.order, i + 1)):
                self.tables[k][tuple(symbols[i - k:i])][symbol] += 1
        self.tables = [{c: (list(w), np.array(list(w.values()), float)) for c, w in t.items()} for t in self.tables]
        return self

    def sample(self, history: list[tuple], length: int, rng: np.random.Generator) -> list[tuple]:
        made = []
        for _ in range(length):
            for k in range(min(self.order - 1, len(history)), -1, -1):
                entry = self.tables[k].get(tuple(history[len(history) - k:]))
                if entry:
                    break
            symbols, counts = entry
            allowed = [i for i, s in enumerate(symbols) if s[0] not in (END_ID, RARE_ID) and s[2] > 0]
            if not allowed:
                symbols, counts = self.tables[0][()]
                allowed = [i for i, s in enumerate(symbols) if s[0] not in (END_ID, RARE_ID) and s[2] > 0]
            weights = counts[allowed] / counts[allowed].sum()
            symbol = symbols[allowed[int(rng.choice(len(allowed), p=weights))]]
            history.append(symbol)
            made.append(symbol)
        return made


def two_sample_accuracy(first: list[list[Step]], second: list[list[Step]], seed: int = 0) -> tuple[float, float]:
    """5-fold accuracy of a random forest telling two sets apart, with its 95% interval half-width.
    0.5 means indistinguishable."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from .features import piece_features

    count = min(len(first), len(second))
    x = np.array([piece_features(p) for p in first[:count] + second[:count]])
    y = np.array([0] * count + [1] * count)
    forest = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    predicted = cross_val_predict(forest, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    accuracy = float(np.mean(predicted == y))
    return accuracy, 1.96 * math.sqrt(accuracy * (1 - accuracy) / len(y))


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
