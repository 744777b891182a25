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
    assert code == 2 and len(lines) == 1 and "no notes" in lines[0]
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


@pytest.fixture(scope="module")
def band_trained_by_cli(tmp_path_factory):
    """`genre-lstm train --data` on real multitrack MIDI files: lead, bass and drums (1 epoch)."""
    from conftest import band_midi

    from genre_lstm.music.events import Step
    from genre_lstm.music.midi_io import midi_file_to_music, steps_to_midi_file

    data = tmp_path_factory.mktemp("band-data")
    band = midi_file_to_music(band_midi(data / "band.mid"))
    for copy in range(12):  # the same band, its lead moved to other notes
        moved = [Step(tuple(p + (copy % 5 if s.part == 0 else 0) for p in s.pitches), s.duration, s.shift, part=s.part)
                 for s in band.steps * 4]
        steps_to_midi_file(moved, data / f"band{copy:02d}.mid", parts=band.parts)
    out = tmp_path_factory.mktemp("band-trained") / "my-band"
    assert main(["train", "--data", str(data), "--name", "my-band", "--epochs", "1", "--out", str(out)]) == 0
    return out


def test_train_data_learns_every_track_and_generates_drums_on_channel_10(band_trained_by_cli, tmp_path, capsys):
    from genre_lstm.store.checkpoint import load_checkpoint

    parts = load_checkpoint(band_trained_by_cli).config.parts
    assert [p.role for p in parts] == ["bass", "pipe", "drums"]
    code = main(["generate", "--checkpoint", str(band_trained_by_cli), "--length", "200", "--random-seed", "2",
                 "--no-audio", "--out", str(tmp_path)])
    assert code == 0
    [midi] = capsys.readouterr().out.split()
    channels = {m.channel for track in mido.MidiFile(midi).tracks for m in track if m.type == "note_on"}
    assert 9 in channels and len(mido.MidiFile(midi).tracks) >= 2


def test_a_band_seed_keeps_bass_and_drums_and_says_what_it_dropped(band_trained_by_cli, trained_by_cli, tmp_path,
                                                                    capsys):
    from conftest import band_midi

    seed = band_midi(tmp_path / "seed.mid")
    assert main(["generate", "--checkpoint", str(band_trained_by_cli), "--seed-midi", str(seed), "--length", "4",
                 "--include-seed", "--no-audio", "--out", str(tmp_path / "band")]) == 0
    captured = capsys.readouterr()
    [midi] = captured.out.split()
    assert captured.err == ""  # every track has a part of its role
    channels = {m.channel for track in mido.MidiFile(midi).tracks for m in track if m.type == "note_on"}
    assert 9 in channels  # the seed's drums are kept
    assert main(["generate", "--checkpoint", str(trained_by_cli), "--seed-midi", str(seed), "--length", "4",
                 "--no-audio", "--out", str(tmp_path / "tunes")]) == 0
    assert "Drums (drums) dropped" in capsys.readouterr().err


def test_each_part_can_play_another_instrument_or_be_muted(band_trained_by_cli, tmp_path, capsys):
    assert main(["generate", "--checkpoint", str(band_trained_by_cli), "--length", "120", "--random-seed", "3",
                 "--parts", "Fretless Bass,mute", "--no-audio", "--out", str(tmp_path)]) == 0
    [midi] = capsys.readouterr().out.split()
    programs = {(m.channel, m.program) for track in mido.MidiFile(midi).tracks for m in track
                if m.type == "program_change"}
    assert (0, 35) in programs and not any(channel == 1 for channel, _ in programs)  # the lead (channel 2) muted
    assert main(["generate", "--checkpoint", str(band_trained_by_cli), "--parts", "Cello,Viola,Flute,Oboe",
                 "--no-audio", "--out", str(tmp_path)]) == 2
    assert "4 parts chosen but this model plays 3" in capsys.readouterr().err
