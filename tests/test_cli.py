"""The command line, called as users call it: in-process through main() and as a real subprocess."""

import subprocess
import sys
from pathlib import Path

import mido
import pytest
from conftest import write_midi

from genre_lstm.cli import main
from genre_lstm.music.midi_io import midi_file_text, midi_file_to_steps
from genre_lstm.music.render import wav_stats

CLI = [sys.executable, "-m", "genre_lstm.cli"]


@pytest.fixture(scope="module")
def trained_by_cli(tmp_path_factory, oneills_path):
    """`genre-lstm train --data` on a folder of real tunes (1 epoch, small for speed)."""
    from genre_lstm.music.midi_io import music_file_to_pieces, steps_to_midi_file

    data = tmp_path_factory.mktemp("data")
    for index, piece in enumerate(music_file_to_pieces(oneills_path)[:20]):
        steps_to_midi_file(piece, data / f"tune{index:02d}.mid")
    (data / "notes.txt").write_text("not music")
    out = tmp_path_factory.mktemp("trained") / "my-genre"
    assert main(["train", "--data", str(data), "--name", "my-genre", "--epochs", "1", "--out", str(out)]) == 0
    return out


def test_train_then_generate_writes_midi_of_the_requested_length_and_matching_wav(trained_by_cli, tmp_path, capsys):
    code = main(["generate", "--checkpoint", str(trained_by_cli), "--length", "64", "--random-seed", "5",
                 "--variations", "2", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out.split()
    midis = [Path(p) for p in printed if p.endswith(".mid")]
    wavs = [Path(p) for p in printed if p.endswith(".wav")]
    assert len(midis) == 2 and len(wavs) == 2
    steps = midi_file_to_steps(midis[0])
    assert len(steps) == 64
    assert midi_file_text(midis[0])["random_seed"] == "5"
    seconds, level = wav_stats(wavs[0])
    assert level > -40 and abs(seconds - mido.MidiFile(midis[0]).length) <= 2.0
    assert (trained_by_cli / "README.md").read_text().startswith("---\nlibrary_name: keras")


def test_seed_midi_and_include_seed(trained_by_cli, tmp_path, capsys):
    seed = write_midi(tmp_path / "seed.mid", [[mido.Message("note_on", note=n, velocity=80, time=0) if i % 2 == 0
                                               else mido.Message("note_off", note=n, time=240)
                                               for n in (62, 64, 66, 67, 69) for i in range(2)]])
    code = main(["generate", "--checkpoint", str(trained_by_cli), "--seed-midi", str(seed), "--length", "10",
                 "--include-seed", "--no-audio", "--out", str(tmp_path / "out")])
    assert code == 0
    [midi] = capsys.readouterr().out.split()
    assert len(midi_file_to_steps(midi)) == 15


def test_model_summary_prints_the_paper_network():
    result = subprocess.run(CLI + ["model-summary", "--preset", "paper", "--vocab-size", "100"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stdout.count("LSTM") >= 3 and "parameters: 5,411,172" in result.stdout


def _bad(args, tmp_path, env=None):
    import os

    result = subprocess.run(CLI + args, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, **(env or {})})
    return result.returncode, result.stderr.strip().splitlines()


@pytest.mark.parametrize("args, says", [
    (["generate", "--genre", "polka", "--out", "o"], "neither a genre"),
    (["generate", "--seed-midi", "missing.mid", "--out", "o"], "no such file"),
    (["generate", "--length", "abc", "--out", "o"], "length must be a whole number from 1 to 2000, not 'abc'"),
    (["generate", "--tempo", "5000", "--out", "o"], "tempo must be"),
    (["generate", "--instrument", "kazoo", "--out", "o"], "unknown General MIDI instrument"),
    (["render", "missing.mid", "out.wav"], "no such file"),
    (["train", "--genre", "polka"], "unknown genre"),
    (["train", "--data", "."], "--data needs --name"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, args, says):
    code, lines = _bad(args, tmp_path)
    assert code == 2
    assert len(lines) == 1 and says in lines[0], lines


def test_note_less_seed_and_missing_soundfont(tmp_path, trained_by_cli):
    (tmp_path / "empty.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00")
    code, lines = _bad(["generate", "--checkpoint", str(trained_by_cli), "--seed-midi", "empty.mid",
                        "--no-audio", "--out", "o"], tmp_path)
    assert code == 2 and len(lines) == 1 and "no pitched notes" in lines[0]
    code, lines = _bad(["generate", "--checkpoint", str(trained_by_cli), "--out", "o"], tmp_path,
                       env={"GENRE_LSTM_SOUNDFONT": "/nonexistent.sf2"})
    assert code == 2 and len(lines) == 1 and "soundfont" in lines[0]
    code, lines = _bad(["generate", "--checkpoint", str(trained_by_cli), "--temperature", "99",
                        "--no-audio", "--out", "o"], tmp_path)
    assert code == 2 and len(lines) == 1 and "temperature must be" in lines[0], lines


def test_help_is_instant():
    result = subprocess.run(CLI + ["--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "generate" in result.stdout
    assert "tensorflow" not in subprocess.run(
        [sys.executable, "-c", "import sys, genre_lstm.cli; print(' '.join(sys.modules))"],
        capture_output=True, text=True, timeout=30).stdout
