"""Where checkpoints come from, offline (the suite never reaches the network: HF_HUB_OFFLINE=1)."""

import shutil

import pytest

from genre_lstm.errors import CheckpointError, HubError, InvalidParameterError
from genre_lstm.store.hub import download_checkpoint, is_repo_id, resolve_checkpoint


@pytest.mark.parametrize("text, ok", [("genre-lstm/irish-fiddle", True), ("a/b", True), ("../etc", False),
                                      ("a/../b", False), ("https://x/y", False), ("a/b/c", False), ("a", False)])
def test_repo_ids_are_validated_before_any_network_use(text, ok):
    assert is_repo_id(text) is ok


def test_invalid_repo_id_is_refused():
    with pytest.raises(InvalidParameterError):
        download_checkpoint("../../etc/passwd")


def test_offline_hub_falls_back_to_the_local_checkpoint(monkeypatch, tmp_path, tiny_checkpoint_dir):
    shutil.copytree(tiny_checkpoint_dir, tmp_path / "irish-fiddle")
    monkeypatch.setenv("GENRE_LSTM_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GENRE_LSTM_HUB_ORG", "someone")
    assert resolve_checkpoint("irish-fiddle") == tmp_path / "irish-fiddle"


def test_offline_with_no_local_copy_names_the_repo_and_the_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_LSTM_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GENRE_LSTM_HUB_ORG", "someone")
    with pytest.raises(HubError, match=r"someone/irish-fiddle.*no local copy at .*irish-fiddle"):
        resolve_checkpoint("irish-fiddle")


def test_without_the_hub_a_missing_genre_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_LSTM_CHECKPOINTS", str(tmp_path))
    with pytest.raises(CheckpointError, match="genre-lstm train --genre irish-fiddle"):
        resolve_checkpoint("irish-fiddle")


def test_a_repo_id_not_in_the_cache_fails_clearly_offline():
    with pytest.raises(HubError, match="not in the local cache"):
        download_checkpoint("nobody/nothing")


def test_push_refuses_a_bad_repo_id_in_one_line():
    from genre_lstm.cli import main

    assert main(["push", "--checkpoint", ".", "--repo", "not a repo"]) == 2
