import pytest

from genre_lstm.errors import RenderError
from genre_lstm.events import Step, steps_duration_quarters
from genre_lstm.midi_io import steps_to_midi_file
from genre_lstm.render import midi_to_wav, wav_stats


def test_fluidsynth_renders_a_non_silent_wav_of_the_right_length(tmp_path):
    steps = [Step((60 + (i * 5) % 24, 67), 0.5, 0.5) for i in range(40)]
    midi = steps_to_midi_file(steps, tmp_path / "a.mid", tempo_bpm=120, program=0)
    seconds, level = wav_stats(midi_to_wav(midi, tmp_path / "a.wav"))
    expected = steps_duration_quarters(steps) * 60 / 120
    assert level > -40
    assert expected <= seconds <= expected + 2.0


def test_missing_soundfont_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_LSTM_SOUNDFONT", str(tmp_path / "none.sf2"))
    midi = steps_to_midi_file([Step((60,), 1.0, 1.0)], tmp_path / "a.mid")
    with pytest.raises(RenderError, match="no such soundfont"):
        midi_to_wav(midi, tmp_path / "a.wav")


def test_absurdly_long_pieces_are_refused_before_rendering(tmp_path):
    steps = [Step((60,), 4.0, 4.0)] * 20
    midi = steps_to_midi_file(steps, tmp_path / "slow.mid", tempo_bpm=4)  # 20 minutes
    with pytest.raises(RenderError, match="limit"):
        midi_to_wav(midi, tmp_path / "slow.wav")
