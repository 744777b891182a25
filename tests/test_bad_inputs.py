"""A corpus of bad inputs, each through the library, the command line and the app.

Every case either is valid music (a single note is a seed) or ends in our error class with a
readable message; the CLI then exits 2 with one line, and the app shows the message and serves
the next request.
"""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import mido
import pytest
from conftest import write_midi
from gradio_client import handle_file

from genre_lstm.cli import main
from genre_lstm.errors import CheckpointError, GenreLSTMError
from genre_lstm.music.midi_io import music_file_to_steps
from genre_lstm.store.checkpoint import load_checkpoint


def _notes(pitches, length=240, channel=0):
    out = []
    for pitch in pitches:
        out += [mido.Message("note_on", note=pitch, velocity=80, time=0, channel=channel),
                mido.Message("note_off", note=pitch, time=length, channel=channel)]
    return out


def _real_midi(folder: Path) -> Path:
    return write_midi(folder / "real.mid", [_notes([60, 62, 64, 65, 67, 69, 71, 72] * 4)])


def make_not_midi(folder):
    (folder / "noise.mid").write_bytes(bytes(range(256)) * 4)
    return folder / "noise.mid"


def make_cut_in_half(folder):
    data = _real_midi(folder).read_bytes()
    (folder / "half.mid").write_bytes(data[: len(data) // 2])
    return folder / "half.mid"


def make_wrong_track_length(folder):
    data = bytearray(_real_midi(folder).read_bytes())
    at = data.find(b"MTrk") + 4
    data[at:at + 4] = struct.pack(">I", 10_000_000)
    (folder / "tracklen.mid").write_bytes(bytes(data))
    return folder / "tracklen.mid"


def make_zero_tracks(folder):
    (folder / "empty.mid").write_bytes(b"MThd" + struct.pack(">IHHH", 6, 1, 0, 480))
    return folder / "empty.mid"


def make_only_drums(folder):
    return write_midi(folder / "drums.mid", [_notes([36, 38, 42] * 8, channel=9)])


def make_only_meta(folder):
    return write_midi(folder / "meta.mid", [[mido.MetaMessage("set_tempo", tempo=500000),
                                             mido.MetaMessage("track_name", name="nothing", time=960)]])


def make_single_note(folder):
    return write_midi(folder / "one.mid", [_notes([69])])


def make_hundred_thousand_notes(folder):
    return write_midi(folder / "huge.mid", [_notes([60, 64] * 50_000, length=1)])


def make_zero_length_note(folder):
    return write_midi(folder / "zero.mid", [_notes([60, 62], length=0) + _notes([64])])


def make_extreme_pitches(folder):
    return write_midi(folder / "extremes.mid", [_notes([0, 127, 0, 127])])


def make_one_bpm(folder):
    """As slow as MIDI can say (3.6 BPM: a quarter note of 16.7 s; 1 BPM does not fit the tempo
    field), 64 quarter notes: a 20-minute render if nothing refused it."""
    return write_midi(folder / "slow.mid", [[mido.MetaMessage("set_tempo", tempo=0xFFFFFF)] + _notes([60, 64] * 32, 480)])


def make_zip_named_mid(folder):
    with zipfile.ZipFile(folder / "archive.mid", "w") as archive:
        archive.writestr("a.txt", "hello")
    return folder / "archive.mid"


def make_image_named_mid(folder):
    (folder / "picture.mid").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    return folder / "picture.mid"


def make_broken_abc(folder):
    (folder / "broken.abc").write_text("X:1\nT:broken\nM:9/0\nK:Qb\n|:]]]]ZZ[[[ 9/0 ::\n")
    return folder / "broken.abc"


def make_broken_musicxml(folder):
    (folder / "broken.musicxml").write_text('<?xml version="1.0"?><score-partwise><part id="P1"><measure>'
                                            '<note><pitch><step>H</step><octave>x</octave></pitch></note>')
    return folder / "broken.musicxml"


SEED_CASES = {  # name: (maker, is it music?)
    "bytes that are not MIDI": (make_not_midi, False),
    "a MIDI cut in half": (make_cut_in_half, False),
    "a wrong track length": (make_wrong_track_length, False),
    "zero tracks": (make_zero_tracks, False),
    "only drums": (make_only_drums, False),
    "only meta events": (make_only_meta, False),
    "a single note": (make_single_note, True),
    "100,000 notes": (make_hundred_thousand_notes, False),
    "a note of zero length": (make_zero_length_note, True),
    "pitches 0 and 127 only": (make_extreme_pitches, True),
    "the slowest tempo MIDI can hold": (make_one_bpm, True),  # fine as a seed: we play it at the genre's tempo
    "a zip named .mid": (make_zip_named_mid, False),
    "an image named .mid": (make_image_named_mid, False),
    "ABC with errors": (make_broken_abc, False),
    "MusicXML with errors": (make_broken_musicxml, False),
}


@pytest.mark.parametrize("case", list(SEED_CASES))
def test_bad_seed_in_library_cli_and_app(case, tmp_path, tiny_checkpoint_dir, client, capsys):
    maker, valid = SEED_CASES[case]
    path = maker(tmp_path)
    try:
        steps = music_file_to_steps(path)
        outcome = "music"
        assert steps and valid, f"{case} should have been refused"
    except GenreLSTMError as error:
        outcome = "error"
        assert not valid, f"{case} should be music: {error}"
        assert path.name in str(error)
    code = main(["generate", "--checkpoint", str(tiny_checkpoint_dir), "--seed-midi", str(path), "--length", "8",
                 "--no-audio", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == (0 if outcome == "music" else 2)
    assert len(err) == (0 if outcome == "music" else 1) and not any("Traceback" in line for line in err)
    if path.suffix in (".mid", ".abc", ".musicxml"):
        if outcome == "music":
            assert client.predict(seed_file=handle_file(str(path)), length=16, api_name="/generate")[2]
        else:
            with pytest.raises(Exception) as raised:
                client.predict(seed_file=handle_file(str(path)), length=16, api_name="/generate")
            assert path.name in str(raised.value) or "notes" in str(raised.value)
        assert client.predict(length=16, api_name="/generate")[2]  # the server keeps serving


def test_one_bpm_file_is_refused_before_rendering(tmp_path, capsys):
    path = make_one_bpm(tmp_path)
    assert main(["render", str(path), str(tmp_path / "slow.wav")]) == 2
    assert "limit" in capsys.readouterr().err
    assert not (tmp_path / "slow.wav").exists()


def _broken_checkpoint(source: Path, folder: Path, damage: str) -> Path:
    broken = Path(shutil.copytree(source, folder / damage))
    if damage == "missing weights":
        (broken / "model.weights.h5").unlink()
    elif damage == "corrupted weights":
        data = (broken / "model.weights.h5").read_bytes()
        (broken / "model.weights.h5").write_bytes(data[: len(data) // 3])
    elif damage == "config with wrong shapes":
        ours = json.loads((broken / "genre_lstm.json").read_text())
        ours["model"]["units"] = [u * 2 for u in ours["model"]["units"]]
        (broken / "genre_lstm.json").write_text(json.dumps(ours))
    elif damage == "vocabulary that does not match":
        vocab = json.loads((broken / "vocabulary.json").read_text())
        vocab["tokens"] = vocab["tokens"] + ["C8.E8"]
        (broken / "vocabulary.json").write_text(json.dumps(vocab))
    return broken


@pytest.mark.parametrize("damage", ["missing weights", "corrupted weights", "config with wrong shapes",
                                    "vocabulary that does not match"])
def test_broken_checkpoints_are_refused_in_library_and_cli(damage, tmp_path, tiny_checkpoint_dir, capsys):
    broken = _broken_checkpoint(tiny_checkpoint_dir, tmp_path, damage)
    with pytest.raises(CheckpointError):
        load_checkpoint(broken)
    code = main(["generate", "--checkpoint", str(broken), "--length", "8", "--no-audio", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(broken) in err[0]
