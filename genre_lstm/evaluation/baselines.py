"""The baselines a genre's LSTM is measured against: Kneser-Ney n-grams and a Markov chain on the same
tokens, an open-basis back-off for pitch sets outside the vocabulary, and the paper's preset scored the
way it was trained (a 100-id window per step)."""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ..model.tokenizer import END_ID, RARE_ID, EncodedPiece, Vocabulary
from ..training.corpus import Piece
from .metrics import Likelihood, PitchSetBackoff, exact_stream


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


def train_paper_baseline(genre_id: str, folder: Path) -> None:
    """The paper preset on the genre's pieces, for as long as the shipped checkpoint trained."""
    from ..store.checkpoint import load_checkpoint
    from ..store.genres import get_genre
    from ..training.corpus import read_collection
    from ..training.train import TrainSettings, train_checkpoint

    genre = get_genre(genre_id)
    shipped = load_checkpoint(genre.local_dir())
    seconds = shipped.info.get("training", {}).get("seconds", 600)
    settings = TrainSettings(preset="paper", epochs=1000, patience=1000, max_minutes=seconds / 60,
                             max_vocab=len(shipped.vocab), verbose=2, **{k: v for k, v in genre.train.items()
                                                                         if k == "transpose"})
    print(f"training the paper baseline for {genre_id}: {seconds / 60:.1f} min", file=sys.stderr)
    train_checkpoint(read_collection(genre.collection).pieces, folder, settings=settings,
                     info={"genre": genre_id, "baseline": "paper"})
