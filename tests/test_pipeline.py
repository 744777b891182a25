import threading

import numpy as np
from conftest import loudness_curve

from genre_lstm.model.generate import Progress
from genre_lstm.music.render import midi_to_wav
from genre_lstm.pipeline import iter_make_music, make_music
from genre_lstm.request import GenerationRequest


def test_audio_rendered_while_sampling_plays_the_written_midi(tiny_checkpoint, tmp_path):
    """The WAV is made alongside sampling from the steps so far; it must sound like its own MIDI
    file, seed included and transposed."""
    request = GenerationRequest(length=120, random_seed=5, variations=2, include_seed=True, transpose=3, tempo=140)
    outputs = make_music(tiny_checkpoint, tiny_checkpoint.seed_steps(0), request, tmp_path)
    for output in outputs:
        again = midi_to_wav(output.midi, tmp_path / f"again-{output.piece.random_seed}.wav")
        streamed, whole = loudness_curve(output.wav), loudness_curve(again)
        assert len(streamed) == len(whole)
        assert np.corrcoef(streamed, whole)[0, 1] > 0.99


def test_stopping_generation_stops_its_renderers(tiny_checkpoint, tmp_path):
    running = iter_make_music(tiny_checkpoint, tiny_checkpoint.seed_steps(0),
                              GenerationRequest(length=200, variations=3), tmp_path)
    assert isinstance(next(running), Progress)
    running.close()  # what a cancelled request does
    assert not [t for t in threading.enumerate() if t.name == "steps-renderer"]
    assert not list(tmp_path.iterdir())


def test_bad_settings_fail_before_any_renderer_starts(tiny_checkpoint, tmp_path):
    import pytest

    from genre_lstm.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="variations"):
        make_music(tiny_checkpoint, tiny_checkpoint.seed_steps(0), GenerationRequest(variations=1000), tmp_path)
    assert not [t for t in threading.enumerate() if t.name.startswith("steps-renderer")]


def test_a_model_with_parts_writes_one_track_per_part_and_plays_what_it_wrote(tiny_parts, tmp_path):
    import mido

    request = GenerationRequest(length=80, random_seed=2, parts="Flute,,Cello,mute")
    [output] = make_music(tiny_parts, tiny_parts.seed_steps(0), request, tmp_path)
    tracks = mido.MidiFile(output.midi).tracks
    programs = [[m.program for m in track if m.type == "program_change"] for track in tracks]
    assert programs == [[73], [52], [42]]  # soprano as a flute, the alto as the genre's, the tenor as a cello
    assert not any(s.part == 3 for s in output.steps)  # the bass was generated, not played
    streamed, whole = loudness_curve(output.wav), loudness_curve(midi_to_wav(output.midi, tmp_path / "again.wav"))
    assert len(streamed) == len(whole) and np.corrcoef(streamed, whole)[0, 1] > 0.99


def test_a_model_with_parts_streams_its_ogg_without_a_wav(tiny_parts, tmp_path):
    """The parts model through main's streaming path: no WAV kept, the Ogg stream plays the parts'
    MIDI file; the outputs come when the files are written, Encoded once the streams are done."""
    import soundfile

    from genre_lstm.music.stream import GrowingFile
    from genre_lstm.pipeline import Encoded, Listening

    opened = []

    def open_stream():
        opened.append(GrowingFile(tmp_path / f"stream-{len(opened)}.ogg"))
        return opened[-1]

    request = GenerationRequest(length=60, random_seed=4, parts=",Violin")
    items = list(iter_make_music(tiny_parts, tiny_parts.seed_steps(0), request, tmp_path, wav=False,
                                 open_stream=open_stream))
    assert isinstance(items[0], Listening) and isinstance(items[-1], Encoded)
    [output] = items[-2]
    assert output.wav is None and output.ogg == opened[0].path and opened[0].state == GrowingFile.COMPLETE
    assert [p.program for p in output.parts] == [52, 40, 52, 52]
    decoded, rate = soundfile.read(str(output.ogg), dtype="int16")
    soundfile.write(str(tmp_path / "decoded.wav"), decoded, rate, subtype="PCM_16")
    whole = loudness_curve(midi_to_wav(output.midi, tmp_path / "whole.wav"))
    heard = loudness_curve(tmp_path / "decoded.wav")
    assert len(heard) == len(whole) and np.corrcoef(heard, whole)[0, 1] > 0.99
