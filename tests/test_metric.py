"""Where music falls in its bars: read from scores and MIDI files, seen by the network, carried
through generation, written to MIDI; long notes; requests in bars; checkpoints saved before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mido
import pytest

from genre_lstm.errors import CheckpointError
from genre_lstm.music.events import GRID, Step, meter_to_units, place_steps
from genre_lstm.music.midi_io import midi_file_to_steps, music_file_to_steps, steps_to_midi_file
from genre_lstm.request import GenerationRequest

WALTZ = """X:1
T:A waltz that starts on its third beat
M:3/4
L:1/8
K:G
D2|G2 B2 d2|g4 f2|e2 c2 A2|F6|G2 B2 d2|g4 b2|a2 f2 d2|g6|]
"""


def read_back(path: Path) -> tuple[list[tuple[int, int]], list[int], int]:
    """The time signatures of a written MIDI file, and every note's onset in ticks (and ticks per beat)."""
    midi = mido.MidiFile(str(path))
    signatures, onsets, tick = [], [], 0
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "time_signature":
            signatures.append((message.numerator, message.denominator))
        elif message.type == "note_on" and message.velocity > 0:
            onsets.append(tick)
    return signatures, onsets, midi.ticks_per_beat


@pytest.fixture(scope="module")
def waltz(tmp_path_factory) -> list[Step]:
    path = tmp_path_factory.mktemp("abc") / "waltz.abc"
    path.write_text(WALTZ)
    return music_file_to_steps(path, timeout=None)


def test_a_score_gives_each_step_its_place_in_a_three_four_bar(waltz):
    assert waltz[0].meter == (3, 4)
    assert [s.position for s in waltz[:5]] == [24, 0, 12, 24, 0]  # the pickup on beat 3, then bar 1


def test_a_seed_starting_mid_bar_in_three_four_is_continued_and_written_at_its_true_positions(
        waltz, tiny_checkpoint, tmp_path):
    from genre_lstm.pipeline import make_music

    seed = waltz[3:]  # starts on the third beat of bar 1
    request = GenerationRequest(length=40, include_seed=True, random_seed=3)
    output = make_music(tiny_checkpoint, seed, request, tmp_path, audio=False)[0]
    signatures, onsets, ticks = read_back(output.midi)
    assert signatures == [(3, 4)]
    bar = 3 * ticks
    assert onsets[0] == 2 * ticks  # a pickup rest of two beats, so bar lines fall where the waltz has them
    expected = [round(s.position * ticks / GRID) for s in output.steps]
    assert [onset % bar for onset in onsets] == expected  # every onset, the continuation's too
    assert len(onsets) == len(seed) + 40
    back = midi_file_to_steps(output.midi)
    assert [s.position for s in back] == [s.position for s in output.steps]
    assert {s.meter for s in back} == {(3, 4)}


def test_a_midi_file_without_a_time_signature_is_in_four_four(tmp_path):
    from conftest import write_midi

    notes = [m for k in range(6) for m in (mido.Message("note_on", note=60 + k, velocity=80, time=0 if k == 0 else 0),
                                           mido.Message("note_off", note=60 + k, velocity=0, time=720))]
    steps = midi_file_to_steps(write_midi(tmp_path / "plain.mid", [notes]))
    assert [s.position for s in steps] == [0, 18, 36, 6, 24, 42]  # dotted quarters across 4/4 bars
    assert {s.meter for s in steps} == {(4, 4)}


def test_held_notes_longer_than_a_whole_note_survive_reading_and_encoding(tmp_path):
    steps = [Step((60,), 10.0, 12.0, 0, (4, 4)), Step((64,), 1.0, 1.0, 0, (4, 4))]
    back = midi_file_to_steps(steps_to_midi_file(steps, tmp_path / "held.mid"))
    assert back[0].duration == 10.0 and back[0].shift == 12.0  # two and a half bars held, three bars apart
    from genre_lstm.model.tokenizer import Vocabulary

    vocab = Vocabulary.build([back])
    encoded = vocab.encode(back)
    assert vocab.class_to_duration(encoded.durations[0]) == 10.0
    assert vocab.class_to_shift(encoded.shifts[0]) == 12.0


def test_a_request_in_bars_ends_at_a_bar_line(waltz, tiny_checkpoint):
    from genre_lstm.model.generate import generate

    seed = waltz[:3]  # its next step falls on beat 3 of bar 1: that bar is finished first, then 3 bars
    pieces = generate(tiny_checkpoint, seed, GenerationRequest(bars=3, variations=2, random_seed=5))
    bar = meter_to_units((3, 4))
    assert pieces[0].steps[0].position == 24
    for piece in pieces:
        total = sum(round(s.shift * GRID) for s in piece.steps)
        assert total == 12 + 3 * bar  # to the end of bar 1, then bars 2 to 4
        assert all(s.meter == (3, 4) for s in piece.steps)
        assert not piece.ended_naturally


def test_a_natural_ending_holds_the_last_note_to_a_bar_line(waltz, tiny_checkpoint):
    from genre_lstm.model.generate import end_at_bar_line

    ended = end_at_bar_line(waltz[:3])  # last step: beat 2 of bar 1, a quarter long
    last = ended[-1]
    assert last.position + round(last.duration * GRID) == meter_to_units((3, 4))
    assert last.shift == last.duration


def test_bars_is_a_request_field_with_limits_and_zero_means_off():
    assert GenerationRequest.from_values(bars="0").bars is None
    assert GenerationRequest.from_values(bars="8").bars == 8
    with pytest.raises(Exception, match="bars must be a whole number from 1 to 200"):
        GenerationRequest.from_values(bars="201")


def test_the_network_sees_the_position_of_the_step_it_predicts(tiny_checkpoint):
    import numpy as np

    assert tiny_checkpoint.config.metric_position
    runner = tiny_checkpoint.runner
    tokens = np.array([[0, 5, 6, 7]])
    rhythm = np.array([[0, 11, 11, 11]])
    shifts = np.array([[0, 12, 12, 12]])
    meter = np.full((1, 4), 2)  # 3/4
    on_beat, _ = runner.prime(runner.inputs(tokens, rhythm, shifts, {"position": np.array([[1, 13, 25, 37]]),
                                                                      "meter": meter}))
    off_beat, _ = runner.prime(runner.inputs(tokens, rhythm, shifts, {"position": np.array([[4, 16, 28, 40]]),
                                                                       "meter": meter}))
    assert not np.allclose(on_beat[0], off_beat[0])


BEFORE = Path(__file__).resolve().parent / "data" / "before-metric"  # trained by the code before metric positions


def test_a_checkpoint_saved_before_metric_positions_generates_and_writes_exactly_as_before():
    """tests/data/before-metric-expected.json holds what that code generated and wrote from it."""
    from genre_lstm.model.generate import generate
    from genre_lstm.music.events import steps_to_rows
    from genre_lstm.music.midi_io import steps_to_note_ticks
    from genre_lstm.store.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(BEFORE)
    assert not checkpoint.config.metric_position and checkpoint.vocab.n_durations == 48
    seed = checkpoint.seed_steps(0)
    assert all(s.position is None for s in seed)  # its seeds carry no places in bars
    expected = json.loads((BEFORE.parent / "before-metric-expected.json").read_text())
    for rhythm in ("learned", "random"):
        pieces = generate(checkpoint, seed, GenerationRequest(length=40, variations=2, random_seed=2, rhythm=rhythm))
        assert [steps_to_rows(p.steps) for p in pieces] == expected[rhythm]["rows"]
        assert [[list(t) for t in steps_to_note_ticks(p.steps)] for p in pieces] == expected[rhythm]["ticks"]


def test_a_checkpoint_saved_before_metric_positions_plays_the_same_notes_from_a_placed_seed(tmp_path):
    from genre_lstm.model.generate import generate
    from genre_lstm.store.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(BEFORE)
    seed = checkpoint.seed_steps(0)
    plain = generate(checkpoint, seed, GenerationRequest(length=30, random_seed=2))[0].steps
    placed = generate(checkpoint, place_steps(seed, position=6), GenerationRequest(length=30, random_seed=2))[0].steps
    assert plain == placed  # what it plays does not depend on positions it never learned
    assert placed[0].position is not None  # but it is written where the seed left off in its bar
    signatures, onsets, _ = read_back(steps_to_midi_file(plain, tmp_path / "old.mid"))
    assert signatures == [(4, 4)] and onsets[0] == 0  # without positions: from a 4/4 bar line, as before


def test_a_checkpoint_whose_rhythm_classes_do_not_match_its_vocabulary_is_refused_in_one_line(
        tiny_checkpoint_dir, tmp_path):
    from genre_lstm.store.checkpoint import load_checkpoint

    folder = tmp_path / "mixed"
    shutil.copytree(tiny_checkpoint_dir, folder)
    vocab = json.loads((folder / "vocabulary.json").read_text())
    (folder / "vocabulary.json").write_text(json.dumps({**vocab, "version": 1}))
    with pytest.raises(CheckpointError, match="duration and 73 gap classes but its vocabulary") as caught:
        load_checkpoint(folder)
    assert "\n" not in str(caught.value)


def test_a_request_in_bars_that_runs_out_of_steps_is_cut_back_to_a_bar_line(waltz):
    from genre_lstm.model.generate import cut_at_last_bar_line

    cut = cut_at_last_bar_line(waltz[:7])  # the pickup, bars 1 and 2, and the first step of bar 3
    assert len(cut) == 6 and sum(round(s.shift * GRID) for s in cut) == 12 + 2 * 36


def test_each_training_step_carries_its_piece_register_and_an_end_token_the_next_pieces(irish_pieces):
    from genre_lstm.model.generate import seed_range
    from genre_lstm.model.tokenizer import END_ID, Vocabulary
    from genre_lstm.training.train import pieces_to_stream

    pieces = irish_pieces[:2]
    stream = pieces_to_stream(pieces, Vocabulary.build(p.steps for p in pieces))
    first, second = (seed_range(p.steps) for p in pieces)
    ends = [int(i) for i in (stream.tokens == END_ID).nonzero()[0]]
    assert ends == [0, len(pieces[0].steps) + 1, len(stream.tokens) - 1]
    assert set(stream.lows[:ends[1]]) == {first["low"]} and set(stream.highs[:ends[1]]) == {first["high"]}
    assert set(stream.lows[ends[1]:-1]) == {second["low"]} and set(stream.highs[ends[1]:-1]) == {second["high"]}
    assert first != second
