"""The app's service layer in plain Python: the form's choices for any model, shipped or the user's
own, and one request from raw values to files."""

import pytest

from genre_lstm.app import service
from genre_lstm.errors import InvalidParameterError
from genre_lstm.model.generate import Progress
from genre_lstm.pipeline import approximate_seconds
from genre_lstm.store.genres import get_genre


def test_a_users_own_checkpoint_has_seed_choices_a_temperature_and_a_duration(tiny_checkpoint_dir):
    choices = service.seed_choices(tiny_checkpoint_dir)
    assert choices[0] == service.RANDOM_SEED_CHOICE and choices[1].startswith("#0: ")
    assert service.default_setting(tiny_checkpoint_dir, "temperature") == 1.0
    assert service.default_setting(tiny_checkpoint_dir, "key_bias") == 0.0
    assert service.default_setting(get_genre("rock-metal").local_dir(), "temperature") == 0.8
    assert approximate_seconds(tiny_checkpoint_dir, 100, 120) == pytest.approx(
        approximate_seconds(tiny_checkpoint_dir, 200, 240))


def test_model_folder_takes_genre_ids_and_complete_checkpoints_only(tiny_checkpoint_dir, tmp_path):
    assert service.model_folder("irish-fiddle") == get_genre("irish-fiddle").local_dir()
    assert service.model_folder(str(tiny_checkpoint_dir)) == tiny_checkpoint_dir
    for probe in ("/", str(tmp_path), "/nonexistent", "owner/name"):
        with pytest.raises(InvalidParameterError, match="unknown genre"):
            service.model_folder(probe)


def test_the_form_default_instrument_means_the_genres():
    assert service.request_from_form(instrument=service.GENRE_DEFAULT).instrument is None
    assert service.request_from_form(instrument="Violin").program == 40


def test_several_variations_come_with_a_zip_one_without(tiny_checkpoint_dir, tmp_path):
    def result_of(request, folder):
        items = list(service.run(str(tiny_checkpoint_dir), request, folder))
        assert any(isinstance(item, Progress) for item in items)
        return items[-1]

    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    one = result_of(service.request_from_form(length=24), tmp_path / "one")
    two = result_of(service.request_from_form(length=24, variations=2, random_seed=3), tmp_path / "two")
    assert one.archive is None and len(one.outputs) == 1
    assert two.archive.is_file() and [o.piece.random_seed for o in two.outputs] == [3, 4]
    assert all(roll.is_file() for roll in two.pianorolls)


def test_a_request_too_long_to_render_is_refused_before_any_work(tmp_path):
    request = service.request_from_form(length=2000, tempo=20)
    with pytest.raises(InvalidParameterError, match="the limit is 15: ask for at most"):
        next(service.run("renaissance-polyphony", request, tmp_path))
    assert not list(tmp_path.iterdir())


def test_a_crashed_servers_folders_are_swept_and_live_ones_kept(tmp_path):
    import os
    import time

    old, new = tmp_path / "genre-lstm-request-old", tmp_path / "genre-lstm-jobs-new"
    for folder in (old, new):
        (folder / "data").mkdir(parents=True)
    hours_ago = time.time() - 4 * 3600
    os.utime(old, (hours_ago, hours_ago))
    assert service.sweep_stale_work(tmp_path) == [old]
    assert not old.exists() and new.is_dir()
