import json
import shutil

import pytest

from genre_lstm.errors import CheckpointError
from genre_lstm.model.generate import generate
from genre_lstm.request import GenerationRequest
from genre_lstm.store.checkpoint import load_checkpoint


def test_folder_is_a_hub_style_repo_without_optimizer_state(tiny_checkpoint_dir):
    names = {p.name for p in tiny_checkpoint_dir.iterdir()}
    assert {"config.json", "metadata.json", "model.weights.h5", "genre_lstm.json", "vocabulary.json",
            "generation.json", "seeds.json"} <= names
    import h5py

    with h5py.File(tiny_checkpoint_dir / "model.weights.h5") as weights:
        assert "optimizer" not in weights
    assert json.loads((tiny_checkpoint_dir / "seeds.json").read_text())["seeds"]


def test_save_load_round_trip_reproduces_the_same_samples(tiny_checkpoint, tiny_checkpoint_dir):
    again = load_checkpoint(tiny_checkpoint_dir)
    settings = GenerationRequest(length=30, random_seed=99)
    seed = tiny_checkpoint.seed_steps(0)
    assert generate(again, seed, settings)[0].steps == generate(tiny_checkpoint, seed, settings)[0].steps


def test_keras_itself_loads_the_folder_in_safe_mode(tiny_checkpoint_dir):
    import keras

    model = keras.saving.load_model(tiny_checkpoint_dir, safe_mode=True, compile=False)
    assert model.count_params() > 0


def test_missing_weights_are_a_clear_error(tiny_checkpoint_dir, tmp_path):
    broken = shutil.copytree(tiny_checkpoint_dir, tmp_path / "ck")
    (broken / "model.weights.h5").unlink()
    with pytest.raises(CheckpointError, match="missing model.weights.h5"):
        load_checkpoint(broken)


def test_vocabulary_that_does_not_fit_the_model_is_refused_before_weights_load(tiny_checkpoint_dir, tmp_path):
    broken = shutil.copytree(tiny_checkpoint_dir, tmp_path / "ck")
    vocab = json.loads((broken / "vocabulary.json").read_text())
    vocab["tokens"] = vocab["tokens"][:-3]
    (broken / "vocabulary.json").write_text(json.dumps(vocab))
    with pytest.raises(CheckpointError, match="expects"):
        load_checkpoint(broken)


def test_corrupted_weights_are_a_clear_error(tiny_checkpoint_dir, tmp_path):
    broken = shutil.copytree(tiny_checkpoint_dir, tmp_path / "ck")
    (broken / "model.weights.h5").write_bytes(b"\x89HDF\r\n garbage")
    with pytest.raises(CheckpointError, match="weights do not load"):
        load_checkpoint(broken)


def test_a_checkpoint_is_saved_again_over_itself(tiny_checkpoint, tmp_path):
    from genre_lstm.store.checkpoint import load_checkpoint, save_checkpoint

    for _ in range(2):  # Keras leaves an empty assets folder that it would refuse to save over
        save_checkpoint(tmp_path / "again", tiny_checkpoint.model, tiny_checkpoint.config, tiny_checkpoint.vocab)
    assert not (tmp_path / "again" / "assets").exists()
    assert load_checkpoint(tmp_path / "again").config == tiny_checkpoint.config


def test_a_range_conditioned_checkpoint_ships_the_registers_of_its_training_pieces(tiny_conditioned_dir, irish_pieces,
                                                                                   tiny_checkpoint):
    from genre_lstm.music.events import steps_to_register

    checkpoint = load_checkpoint(tiny_conditioned_dir)
    trained_on = {steps_to_register(p.steps) for p in irish_pieces[:24]}
    assert {(low, high) for low, high, _ in checkpoint.registers} <= trained_on
    assert 0 < sum(count for *_, count in checkpoint.registers) < 24  # the training split, not held-out pieces
    drawn = [checkpoint.drawn_register(seed) for seed in range(40)]
    assert drawn == [checkpoint.drawn_register(seed) for seed in range(40)]
    assert len(set(drawn)) > 1 and set(drawn) <= trained_on
    assert tiny_checkpoint.registers == [] and tiny_checkpoint.drawn_register(0) is None
