"""Evaluating one genre's checkpoint on its held-out pieces: the driver that gathers every figure."""

from __future__ import annotations

import numpy as np

from ..model.tokenizer import END_ID, Vocabulary
from ..music.events import Step
from ..training.corpus import Piece, pieces_to_part_ranges
from .features import pieces_as_lines
from .baselines import MarkovChain, score_ngram, score_paper
from .metrics import (
    PitchSetBackoff,
    copy_figures,
    muspy_figures,
    part_figures,
    score_model,
    two_sample_accuracy,
    unrepresentable_share,
    yang_lerch_overlaps,
)


def evaluate_genre(genre_id: str, *, generated_count: int = 100, orders: tuple[int, ...] = (1, 2, 3, 4, 5),
                   paper_baseline=None) -> dict:
    """Every figure for one shipped genre on its held-out pieces (the compared sets are returned
    under ``_sets`` for the cross-genre classifier).

    Real windows are non-overlapping windows of held-out pieces; each generated counterpart
    continues the real steps before its window (nothing, for a window at a piece's start), so
    both sets cover the same positions of pieces. The pieces are read as the checkpoint plays them
    (its parts, or one line); a model with parts is compared on the merged line of its parts (the
    features describe one line), and has figures of its own per part.
    """
    from ..store.genres import get_genre
    from ..store.hub import get_checkpoint
    from ..training.corpus import read_collection, split_pieces
    from ..training.train import TrainSettings, pieces_for_training, pieces_to_stream

    genre = get_genre(genre_id)
    checkpoint = get_checkpoint(genre_id)
    split = split_pieces(pieces_for_training(read_collection(genre.collection).pieces, TrainSettings(), checkpoint)[0])
    recorded = checkpoint.info.get("training", {}).get("held_out_pieces", {}).get("test")
    if recorded is not None and recorded != [p.id for p in split.test]:
        raise ValueError(f"{genre_id}: the corpus split differs from the one the checkpoint was trained on")
    backoff = PitchSetBackoff(split.train)
    per_step: dict = {}
    figures = {"genre": genre_id, "test_pieces": len(split.test),
               "model": score_model(checkpoint, split.test, backoff, per_step=per_step).__dict__,
               "unrepresentable": unrepresentable_share(split.test, checkpoint.vocab)}
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
    openings = [(w[0].position, w[0].meter) if w[0].position is not None else None for w in real]
    ours = _continue_each(checkpoint, contexts, openings, length, "learned")
    random_rhythm = _continue_each(checkpoint, contexts, openings, length, "random")
    stream = pieces_to_stream(split.train, checkpoint.vocab)
    markov = {n: _markov_pieces(MarkovChain(n).fit(stream), checkpoint.vocab, contexts, length) for n in (3, 5)}
    train_positions = window_positions(split.train, length)
    picked = np.random.default_rng(1).permutation(len(train_positions))[:len(real)]
    real_train = [split.train[train_positions[j][0]].steps[train_positions[j][1]:train_positions[j][1] + length]
                  for j in picked]
    def as_lines(pieces: list[list[Step]]) -> list[list[Step]]:
        return pieces_as_lines(pieces, tuple(checkpoint.parts))

    if checkpoint.config.has_parts:
        ranges = pieces_to_part_ranges(split.train, len(checkpoint.parts))
        figures["parts"] = {"names": [p.name for p in checkpoint.parts], "ranges": ranges,
                            "generated": part_figures(ours, ranges), "held_out": part_figures(real, ranges)}
        ours, random_rhythm, real, real_train = map(as_lines, (ours, random_rhythm, real, real_train))
        markov = {n: as_lines(pieces) for n, pieces in markov.items()}
    figures["window"] = {"length": length, "count": len(real)}
    figures["two_sample"] = {"lstm": two_sample_accuracy(ours, real), "markov3": two_sample_accuracy(markov[3], real),
                             "markov5": two_sample_accuracy(markov[5], real),
                             "train_vs_held_out": two_sample_accuracy(real_train, real)}
    figures["yang_lerch"] = {"learned": yang_lerch_overlaps(ours, real), "random": yang_lerch_overlaps(random_rhythm, real)}
    train_lines = [Piece(p.id, line) for p, line in zip(split.train, as_lines([p.steps for p in split.train]))]
    figures["copy"] = {"generated": copy_figures(ours, train_lines), "real_held_out": copy_figures(real, train_lines)}
    figures["muspy"] = {"real held-out": muspy_figures(real), "generated": muspy_figures(ours),
                        "generated, random offsets": muspy_figures(random_rhythm)}
    figures["_sets"] = {"generated": ours, "held_out": real,
                        "all_train": as_lines([split.train[i].steps[at:at + length] for i, at in train_positions])}
    return figures


def window_positions(pieces: list[Piece], length: int) -> list[tuple[int, int]]:
    """(piece index, start) of every non-overlapping full window, in a fixed shuffled order."""
    positions = [(i, at) for i, p in enumerate(pieces) for at in range(0, len(p.steps) - length + 1, length)]
    order = np.random.default_rng(0).permutation(len(positions))
    return [positions[j] for j in order]


def _continue_each(checkpoint, contexts, openings, length, rhythm) -> list[list[Step]]:
    """Each context continued; a window at a piece's start (no context) begins where the real one
    does in its bar and meter."""
    from ..model.generate import generate
    from ..request import GenerationRequest

    pieces = []
    for k, (context, opening) in enumerate(zip(contexts, openings)):
        settings = GenerationRequest(length=length, rhythm=rhythm, random_seed=1000 + k)
        pieces.append(generate(checkpoint, context, settings, opening=opening)[0].steps)
    return pieces


def _markov_pieces(chain: "MarkovChain", vocab: Vocabulary, contexts, length) -> list[list[Step]]:
    rng = np.random.default_rng(0)
    pieces = []
    for context in contexts:
        seed = vocab.encode(context, exact=True)
        history = [(END_ID, 0, 0)] + list(zip(seed.tokens.tolist(), seed.durations.tolist(), seed.shifts.tolist()))
        pieces.append(vocab.decode(*zip(*chain.sample(history, length, rng))))
    return pieces

