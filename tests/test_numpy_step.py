"""The NumPy inference path against the Keras inference models: same logits, same music."""

from pathlib import Path

import numpy as np
import pytest

from genre_lstm.errors import InvalidParameterError
from genre_lstm.model.backend import choose_engine, device_description
from genre_lstm.model.generate import StepRunner, generate
from genre_lstm.model.tokenizer import N_METERS, N_POSITIONS
from genre_lstm.request import GenerationRequest
from genre_lstm.store.checkpoint import load_checkpoint

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints"
# a trained default model (with metric positions), one with every input and feature of its family
# (range conditioning too), a trained paper model (its BatchNormalizations have moved from their
# start), a shipped pitch-feature checkpoint with metric positions, a shipped range-conditioned one,
# a shipped one saved before metric positions, with top-line features, and a default model with four
# parts (a part input and a part head)
CHECKPOINTS = ["tiny_checkpoint_dir", "tiny_conditioned_dir", "tiny_paper_dir", SHIPPED / "irish-fiddle",
               SHIPPED / "chinese-folk", SHIPPED / "baroque-chorale", "tiny_parts_dir"]


@pytest.fixture(params=CHECKPOINTS, ids=lambda c: c if isinstance(c, str) else c.name)
def checkpoint_dir(request):
    return request.getfixturevalue(request.param) if isinstance(request.param, str) else request.param


def seed_inputs(runner: StepRunner, checkpoint, variations: int) -> list[np.ndarray]:
    """A real held-out seed window, encoded as the sampler encodes it, with each step's place in
    its bar, the seed's register and each step's part, once per variation."""
    encoded = checkpoint.vocab.encode_seed(checkpoint.seed_steps(0))
    ids = (encoded.tokens, encoded.durations, encoded.shifts)
    conditions = {"position": encoded.positions, "meter": encoded.meters, "low": encoded.lows, "high": encoded.highs,
                  "part": encoded.parts}
    return runner.inputs(*(np.tile(part, (variations, 1)) for part in ids),
                         {name: np.tile(part, (variations, 1)) for name, part in conditions.items()})


def random_step_inputs(runner: StepRunner, checkpoint, rng, variations: int) -> list[np.ndarray]:
    """One step's inputs drawn at random over each input's whole range of ids."""
    config = checkpoint.config
    sizes = {"token": len(checkpoint.vocab), "duration": config.n_durations, "shift": config.n_shifts,
             "position": N_POSITIONS, "meter": N_METERS, "low": 128, "high": 128, "part": max(1, len(config.parts))}
    ids = {name: rng.integers(0, size, (variations, 1)) for name, size in sizes.items()}
    return runner.inputs(ids.pop("token"), ids.pop("duration"), ids.pop("shift"), ids)


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
        inputs = random_step_inputs(keras_runner, checkpoint, rng, variations=3)
        keras_scores, keras_next = keras_runner.step(inputs, states)
        numpy_scores, _ = numpy_runner.step(inputs, states)
        for ours, reference in zip(numpy_scores, keras_scores):
            np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)
        states = [np.asarray(s) for s in keras_next]


@pytest.mark.parametrize("engine", ["numpy", "keras"])
def test_variations_share_one_seed_pass_repeated_as_if_each_had_run_it(tiny_parts_dir, engine):
    checkpoint = load_checkpoint(tiny_parts_dir)
    runner = StepRunner(checkpoint.model, checkpoint.config, engine=engine)
    once_scores, once_states = runner.prime(seed_inputs(runner, checkpoint, variations=1), copies=3)
    each_scores, each_states = runner.prime(seed_inputs(runner, checkpoint, variations=3))
    for once, each in zip(once_scores + once_states, each_scores + each_states):
        assert np.asarray(once).shape == np.asarray(each).shape
        np.testing.assert_allclose(np.asarray(once), np.asarray(each), rtol=1e-5, atol=1e-5)


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


def test_the_conditioned_model_takes_every_input_its_family_has(tiny_conditioned_dir):
    config = load_checkpoint(tiny_conditioned_dir).config
    assert config.family.input_names(config) == ("token", "duration", "shift", "position", "meter", "low", "high")
    assert config.pitch_features and config.top_line_features


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 16])
def test_weights_multiply_rows_as_one_matrix_product_does_panel_by_panel_or_not(rows):
    from genre_lstm.model.numpy_step import PANEL, Weights, matrix_to_panels

    rng = np.random.default_rng(rows)
    matrix = rng.standard_normal((300, 2 * PANEL + 37)).astype(np.float32)  # a last panel only partly filled
    x = rng.standard_normal((rows, 300)).astype(np.float32)
    np.testing.assert_allclose(Weights(matrix).times(x), x @ matrix, rtol=1e-5, atol=1e-4)
    assert matrix_to_panels(matrix).shape == (3, 300, PANEL)
