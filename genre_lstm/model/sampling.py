"""Choosing the next step from the network's scores: pure functions with explicit random numbers.

Every draw is an inverse-CDF lookup of a uniform number the caller takes from its own
``numpy.random.Generator``, so a random seed gives the same piece on every backend, and a
variation in a batch gives the same piece as a single run with its seed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def scores_to_probabilities(scores: np.ndarray, *, temperature: float = 1.0, top_k: int = 0,
                            banned: Sequence[int] = (), are_logits: bool = True,
                            bias: np.ndarray | None = None) -> np.ndarray:
    """(B, V) logits or probabilities -> (B, V) float64 probabilities after temperature, top-k, bans
    (``bias``: terms added to the logits first, e.g. a pull towards a key)."""
    scores = np.asarray(scores, dtype=np.float64)
    logits = scores if are_logits else np.log(np.clip(scores, 1e-30, None))
    if bias is not None:
        logits = logits + bias
    logits = logits / temperature
    if banned:
        logits = logits.copy()
        logits[:, list(banned)] = -np.inf
    if 0 < top_k < logits.shape[1]:
        kth = np.partition(logits, -top_k, axis=1)[:, -top_k][:, None]
        logits = np.where(logits >= kth, logits, -np.inf)
    logits = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def sample_indices(probabilities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw per row: the first index whose cumulative probability exceeds the uniform."""
    cumulative = np.cumsum(probabilities, axis=1)
    targets = np.asarray(uniforms, dtype=np.float64)[:, None] * cumulative[:, -1:]
    picked = (cumulative <= targets).sum(axis=1)
    # never pick a zero-probability entry at the edge of float rounding
    last_allowed = probabilities.shape[1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=1)
    return np.minimum(picked, last_allowed).astype(np.int64)


def greedy_indices(scores: np.ndarray) -> np.ndarray:
    """The paper's choice: the most likely index of each row."""
    return np.argmax(np.asarray(scores), axis=1).astype(np.int64)


def uniform_draws(generators: Sequence[np.random.Generator], count: int) -> np.ndarray:
    """(B, count) uniforms, row k from generator k: each variation consumes only its own stream."""
    return np.stack([g.random(count) for g in generators])
