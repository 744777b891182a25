"""The NumPy inference path against the Keras inference models: same logits, same music."""

from pathlib import Path

import numpy as np
import pytest

from genre_lstm.errors import InvalidParameterError
from genre_lstm.model.backend import choose_engine, device_description
from genre_lstm.model.generate import StepRunner, generate
from genre_lstm.request import GenerationRequest
from genre_lstm.store.checkpoint import load_checkpoint

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints"
# a trained default model, a trained paper model (its BatchNormalizations have moved from their
# start), a shipped pitch-feature checkpoint and one with top-line features too
CHECKPOINTS = ["tiny_checkpoint_dir", "tiny_paper_dir", SHIPPED / "irish-fiddle", SHIPPED / "baroque-chorale"]


@pytest.fixture(params=CHECKPOINTS, ids=lambda c: c if isinstance(c, str) else c.name)
def checkpoint_dir(request):
    return request.getfixturevalue(request.param) if isinstance(request.param, str) else request.param


def seed_inputs(runner: StepRunner, checkpoint, variations: int) -> list[np.ndarray]:
    """A real held-out seed window, encoded as the sampler encodes it, once per variation."""
    encoded = checkpoint.vocab.encode_seed(checkpoint.seed_steps(0))
    ids = (encoded.tokens, encoded.durations, encoded.shifts)
    return runner.inputs(*(np.tile(part, (variations, 1)) for part in ids))


def test_numpy_and_keras_give_the_same_logits_from_the_same_states(checkpoint_dir):
    checkpoint = load_checkpoint(checkpoint_dir)
    keras_runner = StepRunner(checkpoint.model, checkpoint.config, engine="keras")
    numpy_runner = StepRunner(checkpoint.model, checkpoint.config, engine="numpy")
    seed = seed_inputs(keras_runner, checkpoint, variations=3)
    keras_scores, keras_states = keras_runner.prime(seed)
    numpy_scores, numpy_states = numpy_runner.prime(seed)
    for ours, reference in zip(numpy_scores + numpy_states, keras_scores + keras_states):
        np.testing.assert_allclose(ours, np.asarray(reference), rtol=1e-5, atol=1e-4)
    states = [np.asarray(s) for s in keras_states]
    rng = np.random.default_rng(0)
    for _ in range(5):
        ids = [rng.integers(2, size, (3, 1)) for size in (len(checkpoint.vocab), 48, 49)]
        keras_scores, keras_next = keras_runner.step(keras_runner.inputs(*ids), states)
        numpy_scores, _ = numpy_runner.step(numpy_runner.inputs(*ids), states)
        for ours, reference in zip(numpy_scores, keras_scores):
            np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)
        states = [np.asarray(s) for s in keras_next]


def test_both_engines_sample_the_same_music_for_a_random_seed(checkpoint_dir, monkeypatch):
    settings = GenerationRequest(length=80, random_seed=7, variations=2, temperature=1.5)
    pieces = {}
    for engine in ("keras", "numpy"):
        monkeypatch.setenv("GENRE_LSTM_ENGINE", engine)
        checkpoint = load_checkpoint(checkpoint_dir)
        assert checkpoint.runner.engine == engine
        pieces[engine] = generate(checkpoint, checkpoint.seed_steps(1), settings)
    assert [p.steps for p in pieces["numpy"]] == [p.steps for p in pieces["keras"]]
    assert pieces["numpy"][0].steps != pieces["numpy"][1].steps


def test_a_cpu_runs_numpy_and_a_gpu_keras_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("GENRE_LSTM_ENGINE", raising=False)
    assert choose_engine() == ("numpy" if device_description().startswith("CPU") else "keras")
    monkeypatch.setenv("GENRE_LSTM_ENGINE", "keras")
    assert choose_engine() == "keras"
    monkeypatch.setenv("GENRE_LSTM_ENGINE", "torch")
    with pytest.raises(InvalidParameterError):
        choose_engine()
