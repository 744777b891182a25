"""Uploads of music files and zips: what is kept, what is reported, what is refused."""

import zipfile
from pathlib import Path

import pytest

from genre_lstm.cli import main
from genre_lstm.training.uploads import UploadError, gather_music_files


@pytest.fixture()
def tunes(tmp_path, irish_pieces):
    from genre_lstm.music.midi_io import steps_to_midi_file

    folder = tmp_path / "tunes"
    return [steps_to_midi_file(p.steps, folder / f"tune{i}.mid") for i, p in enumerate(irish_pieces[:12])]


def test_a_zip_of_midi_and_other_files_gives_the_music_and_a_report(tmp_path, tunes):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for tune in tunes[:3]:
            bundle.write(tune, f"folder/{tune.name}")
        bundle.writestr("notes.txt", "liner notes")
    gathered = gather_music_files([archive, tunes[3], tmp_path / "set.zip"], tmp_path / "job")
    assert len(gathered.files) == 7 and all(f.parent == tmp_path / "job" for f in gathered.files)
    assert ("set.zip/notes.txt", "not MIDI, MusicXML or ABC") in gathered.skipped


@pytest.mark.parametrize("member", ["../escape.mid", "/etc/escape.mid", "a/../../escape.mid"])
def test_path_traversal_members_refuse_the_zip_and_write_nothing(tmp_path, tunes, member):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(tunes[0], "good.mid")
        bundle.writestr(member, tunes[1].read_bytes())
    with pytest.raises(UploadError, match="outside"):
        gather_music_files([archive], tmp_path / "job" / "in")
    assert not list((tmp_path / "job").rglob("*.mid")) and not (tmp_path / "escape.mid").exists()


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("huge.mid", b"\0" * (200 * 1024 * 1024))
    with pytest.raises(UploadError, match="zip bomb"):
        gather_music_files([archive], tmp_path / "job")
    assert not list((tmp_path / "job").iterdir())


def test_an_empty_zip_is_reported(tmp_path):
    archive = tmp_path / "empty.zip"
    zipfile.ZipFile(archive, "w").close()
    assert gather_music_files([archive], tmp_path / "job").skipped == [("empty.zip", "an empty zip")]


def test_cli_trains_from_a_zip_and_refuses_a_dangerous_one(tmp_path, tunes, capsys):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for tune in tunes:
            bundle.write(tune, tune.name)
        bundle.writestr("cover.jpg", b"\xff\xd8 not music")
    out = tmp_path / "mine"
    assert main(["train", "--data", str(archive), "--name", "mine", "--epochs", "1", "--out", str(out)]) == 0
    assert (out / "model.weights.h5").is_file()
    assert "skipped set.zip/cover.jpg" in capsys.readouterr().err
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as bundle:
        bundle.writestr("../../x.mid", b"MThd")
    assert main(["train", "--data", str(evil), "--name", "evil", "--out", str(tmp_path / "evil")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_cli_fine_tunes_from_a_shipped_genre(tmp_path, tunes, capsys):
    import json

    from genre_lstm.model.network import ModelConfig

    folder = tunes[0].parent
    out = tmp_path / "tuned"
    assert main(["train", "--data", str(folder), "--name", "tuned", "--base", "chinese-folk", "--epochs", "1",
                 "--out", str(out)]) == 0
    ours = json.loads((out / "genre_lstm.json").read_text())
    base = json.loads((Path(__file__).parent.parent / "checkpoints" / "chinese-folk" / "genre_lstm.json").read_text())
    assert ours["info"]["fine_tuned_from"] == "chinese-folk"
    assert ModelConfig.from_json(ours["model"]) == ModelConfig.from_json(base["model"])  # older files lack new defaults
